"""Every touch of Lilya's private parts, behind one door.

Lilya is the public foundation of `ravyn`; a few of its private names and
attributes (underscored modules, attributes its own classes set) are still
worth reading, for speed or for behaviour Lilya does not expose. Each such
use lives in a module of this package, one concern per module, and each
assumption it makes about Lilya is pinned by a test in `tests/_lilya/`.
When an assumption breaks (a Lilya release renamed something), the code
here falls back to Lilya's public path and logs it once; it never raises
out of the app.

Nothing here is public API: import it only from inside `ravyn`.
"""

"""The terminal tutorial: run the guide's examples and fix small broken apps.

```
python -m ravyn_tutorial list          # or: ravyn-tutorial list
python -m ravyn_tutorial run quick_start
python -m ravyn_tutorial start slow_signup
```

The lessons are the examples in the repository's `docs_src/`, so `list` and
`run` need a checkout (run them from its root); the exercises ship with the
package and work anywhere. Needs the `tutorial` extra (Typer and rich; and
watchdog, without which the watch mode polls); without it, `ravyn-tutorial`
says in one line what to install.
"""

__all__: list[str] = []

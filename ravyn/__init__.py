"""Ravyn: a small web framework on Lilya whose background tasks run after the
response, every time, and never fail silently.

The public names, importable from `ravyn`:

```python
from ravyn import BackgroundTask, BackgroundTasks, Depends, Ravyn, Request, get, post
```
"""

from lilya.requests import Request

from ravyn.applications import Ravyn
from ravyn.background import BackgroundTask, BackgroundTasks
from ravyn.dependencies import Depends
from ravyn.responses import JSONResponse, Response
from ravyn.routing import RouteHandler, delete, get, patch, post, put, route

__version__ = "0.1.0"

__all__ = [
    "BackgroundTask",
    "BackgroundTasks",
    "Depends",
    "JSONResponse",
    "Ravyn",
    "Request",
    "Response",
    "RouteHandler",
    "delete",
    "get",
    "patch",
    "post",
    "put",
    "route",
]

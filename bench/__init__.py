"""Benchmarks: our ravyn against plain Lilya, Starlette, FastAPI and PyPI's ravyn
(and, in the realistic scenarios, a bare ASGI app doing the same work).

Run `python -m bench` (full mode, a few minutes) or `python -m bench --quick`
(a few seconds per contender). Each contender serves the same scenarios from
a small app in `bench/apps/`, under uvicorn with the same settings, on a free
port of 127.0.0.1; `wrk` loads it from a separate process. See
`docs/performance.md` for the results and how to read them.
"""

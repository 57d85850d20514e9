"""Where background tasks run: several workers, recycling, stop grace periods, a concurrency limit, measured.

`python -m docs_src.where_it_runs` starts real uvicorn servers on free
127.0.0.1 ports, measures each case and writes `results.json` and
`results.md` beside this file; the Where it runs page includes the table.
"""

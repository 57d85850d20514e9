"""Background tasks against a task queue, measured: `python -m docs_src.queue_comparison`.

The same job runs as a Ravyn background task and as a Celery job on Redis,
with real processes on 127.0.0.1: a `redis-server` the script starts, `celery
worker` processes and `uvicorn` servers. It writes `results.json` and the
Markdown table `results.md` next to this file; the guide's page "Background
tasks vs task queues" includes the table.
"""

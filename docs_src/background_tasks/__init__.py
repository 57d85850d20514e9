"""Every example of the background-tasks guide, one runnable module each.

Run one with `uvicorn docs_src.background_tasks.<name>:app`.
"""

"""A bounded load test of background tasks: none lost, none run twice, no leaks.

`python -m loadtest` runs 10 000 requests at 50 concurrent connections against
`loadtest.app` under a real uvicorn on 127.0.0.1 and prints a table.
"""

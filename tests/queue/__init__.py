"""Tests of the task-queue path: Celery on a real Redis, real workers, and the comparison script."""

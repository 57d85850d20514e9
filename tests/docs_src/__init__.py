"""Tests of the guide's examples in `docs_src/background_tasks/`."""

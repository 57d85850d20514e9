"""`python -m docs_src.queue_comparison`: run the comparison, write results.json and results.md."""

import sys

from docs_src.queue_comparison.compare import main

sys.exit(main())

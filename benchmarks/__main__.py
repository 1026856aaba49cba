"""``python -m benchmarks``: run the benchmark rows and print the table."""

from benchmarks.runner import main

raise SystemExit(main())

"""``python -m benchmarks.soak``: run the soak and print its report."""

from benchmarks.soak.runner import main

raise SystemExit(main())

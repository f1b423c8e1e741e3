"""The test suite, laid out as the source: one folder per app, and system/ for real processes."""

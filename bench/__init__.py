"""`make bench`: throughput of the product next to a plain Litestar handler, same run."""

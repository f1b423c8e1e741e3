"""System tests: real processes (servers, workers, node, a browser), load and concurrency."""

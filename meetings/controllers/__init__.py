"""HTTP controllers: translate requests to service calls and results to responses."""

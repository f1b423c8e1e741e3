"""Business rules. Pages, the JSON API and the CLI all call these; nothing else decides."""

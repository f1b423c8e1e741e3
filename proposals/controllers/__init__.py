"""HTTP controllers of the proposals app, by audience."""

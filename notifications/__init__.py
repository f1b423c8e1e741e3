"""Outgoing email (the transactional outbox); its tables arrive with the email issue."""

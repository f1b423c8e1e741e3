"""Councils, quartiers, meetings and facilitators: the core of the organiser."""

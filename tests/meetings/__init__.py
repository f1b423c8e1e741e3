"""Tests of the meetings app."""

"""Tests of the core package conseils/."""

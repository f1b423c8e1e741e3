"""Helpers of the test suite (servers, SMTP sink, ical.js, shared test data); no tests here."""

"""Migrations the test databases use in place of a third-party app's own (see tests/settings.py)."""

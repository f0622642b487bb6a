"""The suite's fixtures: see tests/support/fixtures.py."""

from tests.support.fixtures import *  # noqa: F401,F403

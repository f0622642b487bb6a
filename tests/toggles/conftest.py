"""Fixtures of the course flag tests: a test flag and a clock the tests move by hand."""

from __future__ import annotations

import pytest

from toggles import cache
from toggles.flags import CourseFlag
from toggles.testutils import reset_course_flags

# A flag of the tests' own, so precedence is pinned apart from the bridge's two flags.
PILOT = CourseFlag("tests.pilot", __name__)


class ManualClock:
    """A monotonic clock that only moves when a test says so (no test waits for real time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    manual = ManualClock()
    monkeypatch.setattr(cache, "clock", manual)
    yield manual


@pytest.fixture
def pilot():
    return PILOT


@pytest.fixture
def fresh_cache():
    """Start from a cold cache (a test that counts queries must know what is cached)."""
    reset_course_flags()
    yield
    reset_course_flags()

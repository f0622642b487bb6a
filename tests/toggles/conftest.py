"""Fixtures of the course flag tests: a test flag and a clock the tests move by hand."""

from __future__ import annotations

import pytest

from tests.support.toggles import PILOT, ManualClock
from toggles import cache
from toggles.testutils import reset_course_flags


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

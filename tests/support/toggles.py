"""For the course flag tests: a flag of the tests' own and a clock that moves only when told."""

from __future__ import annotations

from toggles.flags import CourseFlag

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

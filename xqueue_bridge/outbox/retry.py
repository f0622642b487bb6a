"""The retry policy of a failed delivery, as one readable object (as urllib3's ``Retry`` is)."""

from __future__ import annotations

import random

import attr

from xqueue_bridge.conf import get_setting


@attr.frozen
class RetryPolicy:
    """
    Exponential backoff with jitter, bounded by the age of the delivery and, optionally, by a number of
    attempts.

    The n-th retry waits ``min(backoff_max, backoff_factor * 2 ** (n - 1))`` seconds, scaled by a random
    factor in ``[1 - jitter, 1 + jitter]`` so that many deliveries failing together do not retry together.
    With the defaults a result is retried for 24 hours: after about 10 minutes of doubling waits, every
    10 minutes (about 150 attempts), so an LMS that is down for a deploy or an outage gets every result.
    """

    max_attempts: int | None = None
    max_age: float = 24 * 3600.0
    backoff_factor: float = 1.0
    backoff_max: float = 600.0
    jitter: float = 0.5

    @classmethod
    def from_settings(cls) -> RetryPolicy:
        return cls(**get_setting("DELIVERY_RETRY"))

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after ``attempts`` failed attempts."""
        base = min(self.backoff_max, self.backoff_factor * 2 ** min(max(attempts - 1, 0), 60))
        spread = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return max(0.0, base * spread)

    def exhausted(self, attempts: int, age: float) -> bool:
        """True when no further attempt is allowed: the delivery is given up ("dead")."""
        return (self.max_attempts is not None and attempts >= self.max_attempts) or age >= self.max_age

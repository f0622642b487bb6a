"""
Stable percentage buckets: each course has a fixed bucket per flag, so rollouts are deterministic.

A course's bucket is a hash of the flag name and the course key, in 0..9,999. A percentage ``p`` lets in
the courses whose bucket is below ``p × 100``; raising ``p`` only adds courses, none leaves. Hashing the
flag name in gives each flag its own order of courses.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

BUCKETS = 10_000  # a resolution of 0.01 %


def bucket(flag_name: str, course_key: str) -> int:
    """The bucket (0..9,999) of ``course_key`` for ``flag_name``: the same in every process, forever."""
    digest = hashlib.sha256(f"{flag_name}\n{course_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def threshold(percent: Decimal) -> int:
    """Number of buckets (0..10,000) a percentage lets in."""
    return int(percent * BUCKETS / 100)

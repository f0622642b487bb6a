"""
Stable percentage buckets: each course has a fixed bucket per flag, so rollouts are deterministic.

A course's bucket is a hash of a namespace (the flag's name unless the flag names another) and the course
key, in 0..9,999. A percentage ``p`` lets in the courses whose bucket is below ``p × 100``; raising ``p``
only adds courses, none leaves. Each namespace has its own order of courses; flags that share one nest.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

BUCKETS = 10_000  # a resolution of 0.01 %


def bucket(namespace: str, course_key: str) -> int:
    """The bucket (0..9,999) of ``course_key`` in ``namespace``: the same in every process, forever."""
    digest = hashlib.sha256(f"{namespace}\n{course_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def threshold(percent: Decimal) -> int:
    """Number of buckets (0..10,000) a percentage lets in."""
    return int(percent * BUCKETS / 100)

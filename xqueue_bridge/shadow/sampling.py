"""
Which results a shadow course compares: SAMPLE_RATE, or the course's or its org's own rate, decided per
submission by a hash of its id so that retries and duplicates agree.
"""

from __future__ import annotations

import functools
import hashlib

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from xqueue_bridge.conf import get_setting
from xqueue_bridge.errors import ConfigurationError
from xqueue_bridge.models import Submission


@functools.lru_cache(maxsize=4096)
def org_of(course_id: str) -> str:
    """The org of a course key ("" if it is not one); remembered, as a course's results ask it again and again."""
    try:
        return CourseKey.from_string(course_id).org
    except InvalidKeyError:
        return ""


def sample_rate_value(value, where: str) -> float:
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        raise ConfigurationError(f"XQUEUE_BRIDGE['SHADOW'][{where}] = {value!r}: expected a fraction from 0 to 1")
    return rate


def sample_rate(course_id: str) -> float:
    """The fraction of the course's results compared: its own rate, else its org's, else SAMPLE_RATE."""
    shadow = get_setting("SHADOW")
    rates = shadow["COURSE_SAMPLE_RATES"]
    if rates:
        for key in (course_id, org_of(course_id)):
            if key and key in rates:
                return sample_rate_value(rates[key], f"'COURSE_SAMPLE_RATES'][{key!r}")
    return sample_rate_value(shadow["SAMPLE_RATE"], "'SAMPLE_RATE'")


def sampled(submission: Submission) -> bool:
    """Whether ``submission`` is compared: a stable hash of its id against the course's sample rate."""
    rate = sample_rate(submission.course_id)
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.sha256(f"xqueue-bridge shadow sample {submission.pk}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate

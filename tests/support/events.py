"""
Receivers of the score event in the test process: connected as a receiving end for a ``with`` block, and
one standing in for the LMS's (idempotent, and it can be told to fail).
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable, Iterator

from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

from xqueue_bridge.transports.event import register_receiving_end, unregister_receiving_end


@contextlib.contextmanager
def receiving_end(receiver: Callable, name: str) -> Iterator[None]:
    """
    ``receiver`` hears EXTERNAL_GRADER_SCORE_SUBMITTED sent by anyone, and the bridge delivers its results to
    it as one of its receiving ends (called on its own, as the signal would call it).
    """
    EXTERNAL_GRADER_SCORE_SUBMITTED.connect(receiver, dispatch_uid=name, weak=False)
    register_receiving_end(name, lambda: True, receiver)
    try:
        yield
    finally:
        unregister_receiving_end(name)
        EXTERNAL_GRADER_SCORE_SUBMITTED.disconnect(dispatch_uid=name)


class ScoreReceiver:
    """
    A receiver of EXTERNAL_GRADER_SCORE_SUBMITTED standing in for the LMS's: it applies a score once per
    (queue key, submission) and ignores repeats (the sink is idempotent), and raises while ``failing``
    says so for a call.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.calls: list = []
        self.applied: dict[tuple[str, int], list] = collections.defaultdict(list)
        self.failing: Callable[[object, int], bool] = lambda score, nth: False
        self.seen: collections.Counter = collections.Counter()

    def __call__(self, sender, signal, score, **kwargs):
        key = (score.queue_key, score.submission_id)
        with self.lock:
            self.calls.append(score)
            self.seen[key] += 1
            nth = self.seen[key]
        if self.failing(score, nth):
            raise RuntimeError(f"receiver unavailable for queue key {score.queue_key}")
        with self.lock:
            if not self.applied[key]:
                self.applied[key].append(score)

    def fail_first(self, count: int) -> None:
        """Raise on the first ``count`` calls for each result, then succeed."""
        self.failing = lambda score, nth: nth <= count

    def applied_submissions(self) -> set[int]:
        with self.lock:
            return {submission_id for (_, submission_id), scores in self.applied.items() if scores}

"""
The public Python API of xqueue-bridge: what other code (an LMS that hosts the bridge, operators' scripts,
tests) may call. Everything else is internal and may move between releases.

- The queue (what the XQueue views call): ``submit``, ``pull``, ``put_result``, ``queue_length``.
- The rollout: ``set_stage``, ``unset``, ``set_percentage`` (guarded: ``force``, ``allow_unseen``;
  ``StageMoveRefused``), ``stage_of``, ``known_courses``, ``history``.
- Dead deliveries: ``select`` and ``replay``.
"""

from xqueue_bridge.intake.parsing import parse_reply, parse_submit
from xqueue_bridge.intake.queue_api import PutOutcome, pull, put_result, queue_length, submit
from xqueue_bridge.outbox.replay import replay, select
from xqueue_bridge.stage.rollout import history, known_courses, set_percentage, set_stage, stage_of, unset

__all__ = [
    "PutOutcome",
    "history",
    "known_courses",
    "parse_reply",
    "parse_submit",
    "pull",
    "put_result",
    "queue_length",
    "replay",
    "select",
    "set_percentage",
    "set_stage",
    "stage_of",
    "submit",
    "unset",
]

"""
The shared renderer: capa's ``score_update`` rules, the one interpretation both delivery paths end in.

``CapaRenderer`` applies one grader result (a ``ScoreUpdate``) to a learner's problem state the way the
LMS's capa ``CodeResponse`` does ("legacy interpretation") and persists nothing, which is what shadow
mode compares. A receiving end that keeps learner state subclasses it (the standalone receiving ends'
``xqueue_bridge.sink.renderer.StandaloneRenderer``). ``get_renderer()`` is the instance the RENDERER
setting names (docs/decisions/0002-shared-renderer-contract.rst).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import warnings
from typing import Any

import attr
import html5lib
from django.utils.module_loading import import_string
from html5lib.constants import DataLossWarning
from lxml import etree

from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import SCORE_UPDATE, UNGRADED_RESPONSE, ProblemSnapshot, RenderOutcome, ScoreUpdate
from xqueue_bridge.errors import ConfigurationError, ReplyError, json_type
from xqueue_bridge.render.feedback import feedback_html

log = logging.getLogger(__name__)

# html5lib warns each time it coerces a grader's markup into XML-compatible names; the validity check only
# needs the result, and the warnings would flood logs with grader content.
warnings.filterwarnings("ignore", category=DataLossWarning)

# What capa shows a learner when a grader's reply is not one it accepts (its exact words).
INVALID_REPLY_MSG = "Invalid grader reply. Please contact the course staff."
REQUIRED_FIELDS = ("correct", "score", "msg")
EXPECTED_REPLY = 'a JSON object such as {"correct": true, "score": 1, "msg": "<p>All tests passed</p>"}'


@attr.frozen
class ParsedScoreMessage:
    """A grader reply as capa reads it: whether it is valid and, if so, its three fields (unchecked)."""

    valid: bool
    correct: Any = False
    score: Any = 0
    msg: Any = ""
    reason: str = ""  # why an invalid reply is invalid, for logs and operators


def parse_score_msg(score_msg: Any) -> ParsedScoreMessage:
    """
    Read a grader reply as capa's ``CodeResponse._parse_score_msg`` does.

    - The reply must decode as JSON (``json.loads``; a TypeError or ValueError makes it invalid) and be an
      object holding all of ``correct``, ``score`` and ``msg``; their values are not checked here.
    - ``msg`` must parse as XML (``lxml.etree.fromstring``); failing that (XMLSyntaxError only), as an HTML
      fragment (``html5lib.parseFragment`` with the lxml tree builder). A ValueError from html5lib, or a
      fragment that parses to nothing (an empty string, a lone end tag such as ``</div>``) is invalid.
      Anything other than a syntax error from the XML parser propagates in capa: a ``msg`` that is not a
      string (number, null, list, object) or a string with an XML encoding declaration. That raises
      ReplyError here.
    """
    try:
        result = json.loads(score_msg)
    except (TypeError, ValueError):
        return ParsedScoreMessage(valid=False, reason=f"the reply is not JSON; expected {EXPECTED_REPLY}")
    if not isinstance(result, dict):
        return ParsedScoreMessage(
            valid=False, reason=f"the reply is {json_type(result)}, not an object; expected {EXPECTED_REPLY}"
        )
    missing = [name for name in REQUIRED_FIELDS if name not in result]
    if missing:
        return ParsedScoreMessage(
            valid=False, reason=f"the reply has no {', '.join(missing)}; expected {EXPECTED_REPLY}"
        )
    msg = result["msg"]
    try:
        etree.fromstring(msg)
    except etree.XMLSyntaxError:
        try:
            parsed = html5lib.parseFragment(msg, treebuilder="lxml", namespaceHTMLElements=False)
        except ValueError:
            parsed = False
        if not parsed:
            return ParsedScoreMessage(valid=False, reason="the reply's msg parses neither as XML nor as HTML")
    except Exception as exc:  # capa lets these through: the LMS fails the request
        raise ReplyError(
            f"the reply's msg cannot be parsed ({type(exc).__name__}: {exc}); "
            "expected a string of HTML or XML without an encoding declaration"
        ) from exc
    return ParsedScoreMessage(valid=True, correct=result["correct"], score=result["score"], msg=msg)


class CapaRenderer:
    """
    Legacy capa semantics, pure: computes what a score update does to a problem and persists nothing.

    Inside an LMS deployment this is the renderer to name in RENDERER: the LMS renders for real, and
    the bridge uses this one for shadow dry runs only.
    """

    def evaluate(self, update: ScoreUpdate, before: ProblemSnapshot) -> RenderOutcome:
        """
        Apply ``update`` (a ``score_update``) to ``before`` as capa's ``CodeResponse.update_score`` does.

        Rules, in capa's order:

        1. The reply is read by ``parse_score_msg``. An invalid reply replaces the entry whatever the queue
           key: msg becomes INVALID_REPLY_MSG and correctness, npoints and the queue key are cleared (capa
           does not compare keys first, so a late invalid reply also un-queues a newer submission).
           ``valid_reply`` and ``applied`` are False.
        2. correctness is ``"correct"`` if ``correct`` is truthy, else ``"incorrect"`` (independent of the
           score: ``"false"`` as a string is truthy).
        3. Nothing changes unless the stored queue key equals ``update.queuekey`` (a duplicate or stale
           reply, or a problem that is not queued): ``applied`` is False, ``after == before``. Capa checks
           the score only after this, so a stale reply with a bad score is a quiet no-op too.
        4. npoints = ``max(score, 0)``: negatives become 0, fractions are kept, nothing is capped at
           max_score. A score ``max`` cannot compare with 0 (string, null, list, object) raises in capa:
           here the outcome carries ``error`` and nothing is applied. Booleans count as 1 and 0.
           Unlike capa, NaN and infinite scores (JSON ``NaN``, ``Infinity``, ``1e999``) are errors too:
           capa keeps them and the LMS fails later, when the grade is stored.
        5. msg is the grader's with every ``&nbsp;`` replaced by ``&#160;`` (valid XML), and the queue key
           is consumed (None), so a redelivery of the same reply is a no-op.

        The score earned is ``after.earned``: npoints when set, else 1 if correct, else 0.
        """
        if update.dispatch != SCORE_UPDATE:
            raise ValueError(f"evaluate handles {SCORE_UPDATE!r} updates, not {update.dispatch!r}")
        try:
            reply = parse_score_msg(update.xqueue_body)
        except ReplyError as exc:
            return self._failure(before, str(exc), valid_reply=False)
        if not reply.valid:
            log.info("grader reply for %s is invalid: %s", update.usage_key, reply.reason)
            after = attr.evolve(before, queuekey=None, correctness=None, npoints=None, msg=INVALID_REPLY_MSG)
            return self._outcome(before, after, valid_reply=False, applied=False)
        correctness = "correct" if reply.correct else "incorrect"
        if before.queuekey is None or before.queuekey != update.queuekey:
            log.info("reply for %s: not the queue key waited for, nothing applied", update.usage_key)
            return self._outcome(before, before, valid_reply=True, applied=False)
        try:
            points = max(reply.score, 0)
        except TypeError:
            return self._failure(
                before,
                f"the reply's score {reply.score!r} is not a number; expected points such as 1 or 0.5",
            )
        try:
            npoints = float(points)
        except OverflowError:
            npoints = math.inf
        if not math.isfinite(npoints):
            return self._failure(before, f"the reply's score {reply.score!r} is not a finite number")
        after = attr.evolve(
            before,
            queuekey=None,
            correctness=correctness,
            npoints=npoints,
            msg=reply.msg.replace("&nbsp;", "&#160;"),
        )
        return self._outcome(before, after, valid_reply=True, applied=True)

    def evaluate_ungraded(
        self, update: ScoreUpdate, before: ProblemSnapshot
    ) -> tuple[RenderOutcome, str | None]:
        """
        An ``ungraded_response`` (MatlabInput's plot): a message to show, never a score.

        As capa's input does, a body for another queue key is ignored unread (a no-op); for the key it
        waits for, the body must be JSON (else it raises: ``error``) holding ``msg`` (else it raises).
        Neither the score, the correctness nor the problem's queue key change. Returns the outcome
        (``after == before``, ``applied`` False) and the message to record, or None.
        """
        outcome = self._outcome(before, before, valid_reply=True, applied=False)
        if before.queuekey is None or before.queuekey != update.queuekey:
            return outcome, None
        try:
            message = json.loads(update.xqueue_body)["msg"]
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            return self._failure(
                before,
                f"the ungraded response is not a JSON object with a msg ({type(exc).__name__})",
                valid_reply=False,
            ), None
        return outcome, message if isinstance(message, str) else json.dumps(message)

    def dry_run(self, update: ScoreUpdate, before: ProblemSnapshot) -> RenderOutcome:
        """What ``update`` would do to ``before``; persists nothing (shadow mode compares these)."""
        if update.dispatch == UNGRADED_RESPONSE:
            return self.evaluate_ungraded(update, before)[0]
        return self.evaluate(update, before)

    def learner_of(self, update: ScoreUpdate) -> str | None:
        """Which learner state ``update`` would reach; None for a renderer that keeps no learner state."""
        return None

    @staticmethod
    def _outcome(
        before: ProblemSnapshot, after: ProblemSnapshot, *, valid_reply: bool, applied: bool,
        error: str | None = None,
    ) -> RenderOutcome:
        return RenderOutcome(
            valid_reply=valid_reply,
            applied=applied,
            before=before,
            after=after,
            feedback_html=feedback_html(after),
            error=error,
        )

    @classmethod
    def _failure(cls, before: ProblemSnapshot, error: str, *, valid_reply: bool = True) -> RenderOutcome:
        return cls._outcome(before, before, valid_reply=valid_reply, applied=False, error=error)


_renderers: dict[str, CapaRenderer] = {}
_renderers_lock = threading.Lock()


def get_renderer() -> CapaRenderer:
    """The renderer named by the RENDERER setting (a dotted path to a CapaRenderer class), one per path."""
    path = get_setting("RENDERER")
    renderer = _renderers.get(path)
    if renderer is not None:
        return renderer
    with _renderers_lock:
        if path not in _renderers:
            try:
                cls = import_string(path)
            except ImportError as exc:
                raise ConfigurationError(
                    f"XQUEUE_BRIDGE['RENDERER'] = {path!r} cannot be imported ({exc}); expected a dotted "
                    "path such as 'xqueue_bridge.sink.renderer.StandaloneRenderer'"
                ) from exc
            if not (isinstance(cls, type) and issubclass(cls, CapaRenderer)):
                raise ConfigurationError(
                    f"XQUEUE_BRIDGE['RENDERER'] = {path!r} is not a subclass of "
                    "xqueue_bridge.render.CapaRenderer"
                )
            _renderers[path] = cls()
        return _renderers[path]

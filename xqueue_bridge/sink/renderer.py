"""
The standalone receiving ends' renderer: capa's semantics on learner state kept in the sink's tables.

It is the default RENDERER of a standalone bridge; beside a real LMS the LMS renders, and the bridge names
the pure ``xqueue_bridge.render.CapaRenderer`` for shadow dry runs.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import DISPATCHES, UNGRADED_RESPONSE, RenderOutcome, ScoreUpdate
from xqueue_bridge.errors import ConfigurationError, UnknownProblem
from xqueue_bridge.render.capa import CapaRenderer, get_renderer
from xqueue_bridge.sink import learners

log = logging.getLogger(__name__)


class StandaloneRenderer(CapaRenderer):
    """
    The standalone sink's renderer: capa semantics on learner state kept in ``xqueue_bridge.sink``.

    ``apply`` locks the learner's row, so concurrent deliveries of the same result serialize: the first
    consumes the queue key and the rest find nothing to apply. A unique constraint on the applied updates
    of each (problem, queue key) backs the lock up.
    """

    def apply(self, update: ScoreUpdate, *, dry_run: bool = False) -> RenderOutcome:
        """
        Apply ``update`` to the learner's problem and return the outcome.

        The learner is found by course, usage key and numeric user id for callback updates, and by usage
        key and anonymous student id for event updates; ``UnknownProblem`` when the sink holds no state for
        them. Unless ``dry_run``, the new state is saved and a ``LearnerUpdate`` row appended, in one
        transaction. An outcome with ``error`` applied nothing (the receiving end fails as the LMS would).
        """
        from xqueue_bridge.sink import learners

        if update.dispatch not in DISPATCHES:
            raise ValueError(f"unknown dispatch {update.dispatch!r}; expected one of {DISPATCHES}")
        if dry_run:
            return self.dry_run(update, learners.locate_problem(update).snapshot())
        try:
            return self._apply_locked(update)
        except IntegrityError:
            # Another delivery of the same result recorded its application first (the guard of
            # LearnerUpdate); read the state again, where the key is now consumed.
            log.warning("concurrent application of one queue key for %s; re-reading", update.usage_key)
            return self._apply_locked(update)

    def learner_of(self, update: ScoreUpdate) -> str | None:
        """The problem state the receiving end of ``update`` finds (shadow compares it), or "unknown learner"."""
        try:
            return f"problem state {learners.locate_problem(update).pk}"
        except UnknownProblem:
            return "unknown learner"

    def _apply_locked(self, update: ScoreUpdate) -> RenderOutcome:
        from xqueue_bridge.sink import learners

        with transaction.atomic():
            state = learners.locate_problem(update, lock=True)
            before = state.snapshot()
            ungraded_msg = None
            if update.dispatch == UNGRADED_RESPONSE:
                outcome, ungraded_msg = self.evaluate_ungraded(update, before)
            else:
                outcome = self.evaluate(update, before)
            learners.record_outcome(state, update, outcome, ungraded_msg=ungraded_msg)
        return outcome




def get_applying_renderer() -> StandaloneRenderer:
    """The configured renderer, for a receiving end: one that can ``apply`` updates, not only dry-run."""
    renderer = get_renderer()
    if not callable(getattr(renderer, "apply", None)):
        raise ConfigurationError(
            f"XQUEUE_BRIDGE['RENDERER'] = {get_setting('RENDERER')!r} cannot apply score updates, but "
            "RECEIVING_ENDS is on; name a renderer with apply() (xqueue_bridge.sink.renderer.StandaloneRenderer) "
            "or turn RECEIVING_ENDS off where the LMS receives results itself"
        )
    return renderer

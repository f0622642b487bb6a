"""
Running the shadow comparison: sample, plan, conduct, publish, drain.

For a submission in ``shadow_callback`` or ``shadow_event`` whose course samples it:

1. **plan** (inside the put_result transaction, from the ``reply_accepted``, ``reply_refused`` and
   ``reply_duplicated`` signals): one ``pending`` Comparison row (two with the noise baseline), written in
   a savepoint so that no failure of it can undo the grader's reply.
2. **conduct**, off the request path, once the authoritative delivery is final: in the delivery's own
   thread (``delivery_finished`` with ``final=True``; DELIVERY_MODE "thread" runs it in the pool, "celery"
   in the task, "worker" in the worker, "sync" inline after commit); for a refused or duplicate reply,
   nothing is delivered, so the comparison is handed to the same pool after commit (inline in "sync",
   left to the worker in "celery" and "worker"). The worker's drainer decides whatever is left pending.
3. **publish**: the verdict is written only if the row is still pending (two processes may conduct the
   same comparison; both dry runs are pure, the first write wins), then the guardrail looks at the course.

Any failure while conducting is recorded as ``errored`` with its reason; nothing here raises into the
delivery or the request.
"""

from __future__ import annotations

import hashlib
import logging

import attr
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from xqueue_bridge import delivery as outbox
from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import ProblemSnapshot
from xqueue_bridge.errors import ConfigurationError
from xqueue_bridge.models import Delivery, Path, Submission
from xqueue_bridge.shadow import guardrail, rules
from xqueue_bridge.shadow.compare import Verdict, compare, reply_facts
from xqueue_bridge.shadow.models import Comparison
from xqueue_bridge.shadow.observe import (
    DELIVERY_FAILED,
    Observation,
    consumed_snapshot,
    observe,
    queued_snapshot,
    unchanged,
)

log = logging.getLogger(__name__)

OTHER_PATH = {Path.CALLBACK.value: Path.EVENT.value, Path.EVENT.value: Path.CALLBACK.value}


def org_of(course_id: str) -> str:
    try:
        return CourseKey.from_string(course_id).org
    except InvalidKeyError:
        return ""


# --- sampling ----------------------------------------------------------------------------------------


def _rate(value, where: str) -> float:
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
    for key in (course_id, org_of(course_id)):
        if key and key in rates:
            return _rate(rates[key], f"'COURSE_SAMPLE_RATES'][{key!r}")
    return _rate(shadow["SAMPLE_RATE"], "'SAMPLE_RATE'")


def sampled(submission: Submission) -> bool:
    """Whether ``submission`` is compared: a stable hash of its id against the course's sample rate."""
    rate = sample_rate(submission.course_id)
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.sha256(f"xqueue-bridge shadow sample {submission.pk}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


# --- plan (inside the put_result transaction) --------------------------------------------------------


def plan(submission: Submission, trigger: str, *, delivery: Delivery | None = None, reply: str = "",
         context: dict | None = None) -> list[int]:
    """Record the pending comparisons of a sampled shadow submission; returns their ids (maybe none)."""
    if not submission.shadowed or not sampled(submission):
        return []
    control = submission.authoritative_path
    common = {
        "submission": submission, "delivery": delivery, "trigger": trigger, "course_id": submission.course_id,
        "org": org_of(submission.course_id), "queue_name": submission.queue_name, "stage": submission.stage,
        "control_path": control, "reply": reply, "context": context or {},
    }
    candidates = [(OTHER_PATH[control], False)]
    if get_setting("SHADOW")["NOISE_BASELINE"]:
        candidates.append((control, True))
    with transaction.atomic():  # a savepoint: its failure leaves the grader's reply untouched
        return [
            Comparison.objects.create(candidate_path=path, noise=noise, **common).pk for path, noise in candidates
        ]


def run_after_commit(ids: list[int]) -> None:
    """Conduct comparisons with no delivery to wait for, once the reply is committed, off the request."""
    if not ids:
        return
    mode = get_setting("DELIVERY_MODE")
    if mode == "sync":
        transaction.on_commit(lambda: run_all(ids))
    elif mode == "thread":
        transaction.on_commit(lambda: outbox._pool().submit(_run_in_thread, ids))
    # "celery" and "worker": the worker's drainer (or the celery drain task) decides them.


def _run_in_thread(ids: list[int]) -> None:
    try:
        run_all(ids)
    finally:
        connection.close()


# --- conduct -----------------------------------------------------------------------------------------


def _learner_sees(observation: Observation, shown: Observation) -> Observation:
    """``observation`` with the learner-visible outcome of ``shown`` (e.g. the failure notice)."""
    return attr.evolve(
        observation, points_earned=shown.points_earned, points_possible=shown.points_possible,
        correctness=shown.correctness, feedback=shown.feedback, key_consumed=shown.key_consumed, after=shown.after,
    )


def _as_it_happened(control: Observation, comparison: Comparison, before: ProblemSnapshot) -> Observation:
    """
    The control with what really happened on the authoritative path: the delivery's duration; when the
    delivery was given up, the error and what the learner got instead (the failure notice, or nothing);
    when a refused reply was the last attempt, the failure notice the learner got.
    """
    submission = comparison.submission
    if comparison.trigger == Comparison.Trigger.RESULT and comparison.delivery is not None:
        delivery = comparison.delivery
        control = attr.evolve(control, duration=control.duration + (delivery.duration or 0.0))
        if delivery.status != Delivery.Status.DEAD:
            return control
        control = attr.evolve(
            control, error=control.error or DELIVERY_FAILED,
            detail=outbox.redact(delivery.last_error, submission.lms_key, submission.pullkey),
        )
        if submission.deliveries.filter(kind=Delivery.Kind.FAILURE_NOTICE).exists():
            notice = observe(comparison.control_path, submission, outbox.failure_notice_body(), before)
            return _learner_sees(control, notice)
        return _learner_sees(control, unchanged(control.path, before, None, ""))
    if comparison.trigger == Comparison.Trigger.REFUSAL and comparison.context.get("notice"):
        notice = observe(comparison.control_path, submission, outbox.failure_notice_body(), before)
        return _learner_sees(control, notice)
    return control


def conduct(comparison: Comparison) -> tuple[Verdict, Observation, Observation]:
    """Observe both paths on the comparison's reply and compare them; raises only on a bug."""
    submission = comparison.submission
    before = queued_snapshot(submission)
    duplicate = comparison.trigger == Comparison.Trigger.DUPLICATE
    if comparison.trigger == Comparison.Trigger.RESULT:
        reply = comparison.delivery.body
    elif comparison.trigger == Comparison.Trigger.REFUSAL:
        reply = comparison.reply
    else:
        reply = submission.grader_reply or ""
        before = consumed_snapshot(submission, reply)
    control = observe(comparison.control_path, submission, reply, before, duplicate=duplicate)
    control = _as_it_happened(control, comparison, before)
    candidate = observe(comparison.candidate_path, submission, reply, before, duplicate=duplicate)
    shadow = get_setting("SHADOW")
    verdict = compare(
        control, candidate, facts=reply_facts(reply, submission.points_possible), context=comparison.context,
        clean_rules=rules.active_clean_rules(), ignore_rules=rules.active_ignore_rules(),
        store_full=shadow["STORE_FULL_VALUES"],
    )
    return verdict, control, candidate


def _published(comparison: Comparison, verdict: Verdict, control: Observation, candidate: Observation) -> dict:
    submission = comparison.submission
    store_full = get_setting("SHADOW")["STORE_FULL_VALUES"]
    fields = {
        "status": verdict.status,
        "diff": verdict.diff,
        "categories": list(verdict.categories),
        "clean_rules": get_setting("SHADOW")["CLEAN_RULES"],
        "ignored_by": list(verdict.ignored_by),
        "control_error": (control.error or "")[:64],
        "candidate_error": (candidate.error or "")[:64],
        "control_duration": control.duration,
        "candidate_duration": candidate.duration,
        "control_digest": verdict.control_digest,
        "candidate_digest": verdict.candidate_digest,
        "compared_at": timezone.now(),
        "error": "",
    }
    if store_full:
        secrets = (submission.lms_key, submission.pullkey)
        fields["control_values"] = {**verdict.control, "detail": outbox.redact(control.detail, *secrets)}
        fields["candidate_values"] = {**verdict.candidate, "detail": outbox.redact(candidate.detail, *secrets)}
    else:
        fields["reply"] = ""
    return fields


def run(comparison_id: int) -> str | None:
    """Decide one pending comparison; its status, or None if it was not pending (decided elsewhere)."""
    comparison = (
        Comparison.objects.select_related("submission", "delivery")
        .filter(pk=comparison_id, status=Comparison.Status.PENDING)
        .first()
    )
    if comparison is None:
        return None
    try:
        fields = _published(comparison, *conduct(comparison))
    except Exception as exc:  # the candidate or the comparator failed: recorded, never raised
        log.exception("shadow comparison %s of submission %s failed", comparison.pk, comparison.submission_id)
        submission = comparison.submission
        reason = outbox.redact(f"{type(exc).__name__}: {exc}", submission.lms_key, submission.pullkey)
        fields = {"status": Comparison.Status.ERRORED, "error": reason[:2000], "compared_at": timezone.now()}
        if not get_setting("SHADOW")["STORE_FULL_VALUES"]:
            fields["reply"] = ""
    updated = Comparison.objects.filter(pk=comparison.pk, status=Comparison.Status.PENDING).update(**fields)
    if not updated:
        return None
    if not comparison.noise:
        try:
            guardrail.after_comparison(comparison)
        except Exception:
            log.exception("guardrail check after comparison %s failed", comparison.pk)
    return fields["status"]


def run_all(ids) -> int:
    """Decide each pending comparison of ``ids``; never raises. Returns how many this call decided."""
    done = 0
    for comparison_id in ids:
        try:
            done += run(comparison_id) is not None
        except Exception:  # e.g. the database went away: the row stays pending for the worker
            log.exception("shadow comparison %s could not be recorded; it stays pending", comparison_id)
    return done


def ready_ids(limit: int) -> list[int]:
    """Pending comparisons whose authoritative delivery is final (or that wait for no delivery)."""
    final = [Delivery.Status.DELIVERED, Delivery.Status.DEAD]
    return list(
        Comparison.objects.filter(status=Comparison.Status.PENDING)
        .filter(Q(delivery__isnull=True) | Q(delivery__status__in=final))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def drain(limit: int = 100) -> int:
    """The worker's share of shadow mode: decide what is ready and run the periodic guardrail check."""
    done = run_all(ready_ids(limit))
    return done + guardrail.periodic_check()

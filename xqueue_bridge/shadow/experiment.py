"""
Running the shadow comparison: sample, conduct, publish, drain.

For a submission in ``shadow_callback`` or ``shadow_event`` whose course samples it:

* **An accepted reply** is compared once its authoritative delivery is final (``delivery_finished`` with
  ``final=True``). The Delivery row is the durable record of what to compare, so nothing is written for
  shadow mode inside the put_result transaction: the comparison row is inserted once, decided.
* **A refused or duplicate reply** has no delivery: a ``pending`` comparison row is written inside the
  put_result transaction (in a savepoint, so its failure cannot undo the reply; the refused reply is kept
  on it, as it exists nowhere else) and decided after commit. The worker's drainer decides whatever is
  left pending, including what a dead process left.

Where (``scheduling.later``): with DELIVERY_MODE "thread" (the embedded default) in one thread per process
of its own, each comparison starting no sooner than SHADOW["START_DELAY"] after its trigger, so that its CPU
work (two dry runs, an Avro round trip, HTML canonicalization) neither holds up a delivery thread nor
competes for the interpreter with the grader's answer, and no later than SHADOW["MAX_LAG"]: one the thread
reaches later is not conducted but recorded ``shed`` with the reason (one insert or update), so the
comparisons keep up under any load and none goes uncounted; with "celery" and "worker" in the task or worker
that finished the delivery (refused and duplicate replies by the worker's drainer); with "sync" inline.
See docs/decisions/0008 and 0013 for the measurements behind this.

Publishing writes the verdict (a pending row only if it is still pending: two processes may conduct the
same comparison, both dry runs are pure and the first write wins), then the guardrail looks at the course.
Any failure while conducting is recorded as ``errored`` with its reason; nothing here raises into the
delivery or the request.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import attr
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import ProblemSnapshot
from xqueue_bridge.models import Delivery, DeliveryPath, Stage, Submission
from xqueue_bridge.outbox.queueing import failure_notice_body
from xqueue_bridge.redaction import redact
from xqueue_bridge.shadow import guardrail, rules
from xqueue_bridge.shadow.compare import Verdict, compare, reply_facts
from xqueue_bridge.shadow.models import Comparison
from xqueue_bridge.shadow.observe import (
    DELIVERY_FAILED,
    UNSCORABLE_REPLY,
    Observation,
    consumed_snapshot,
    observe,
    queued_snapshot,
    unchanged,
)
from xqueue_bridge.shadow.sampling import org_of, sampled
from xqueue_bridge.shadow.scheduling import later

log = logging.getLogger(__name__)

OTHER_PATH = {
    DeliveryPath.CALLBACK.value: DeliveryPath.EVENT.value,
    DeliveryPath.EVENT.value: DeliveryPath.CALLBACK.value,
}


# --- creating comparisons ---------------------------------------------------------------------------


def _candidates(submission: Submission) -> list[tuple[str, bool]]:
    """(candidate path, noise baseline?) of each comparison a sampled result gets."""
    control = submission.authoritative_path
    paths = [(OTHER_PATH[control], False)]
    if get_setting("SHADOW")["NOISE_BASELINE"]:
        paths.append((control, True))
    return paths


def _new(submission: Submission, trigger: str, candidate_path: str, noise: bool, **fields) -> Comparison:
    return Comparison(
        submission=submission, trigger=trigger, course_id=submission.course_id, org=org_of(submission.course_id),
        queue_name=submission.queue_name, stage=submission.stage, control_path=submission.authoritative_path,
        candidate_path=candidate_path, noise=noise, **fields,
    )


def plan(submission: Submission, trigger: str, *, reply: str = "", context: dict | None = None) -> list[int]:
    """
    Record pending comparisons of a refused or duplicate reply to a sampled shadow submission (inside the
    put_result transaction); returns their ids, maybe none.
    """
    if not submission.shadowed or not sampled(submission):
        return []
    with transaction.atomic():  # a savepoint: its failure leaves the grader's reply untouched
        ids = []
        for path, noise in _candidates(submission):
            comparison = _new(submission, trigger, path, noise, reply=reply, context=context or {})
            comparison.save()
            ids.append(comparison.pk)
        return ids


def compare_result(delivery: Delivery) -> list[str]:
    """
    Compare the result of a final delivery of a sampled shadow submission and record the verdicts (one
    insert each); returns their statuses. A delivery already compared (e.g. replayed) is not compared again.
    """
    submission = delivery.submission
    if delivery.kind != Delivery.Kind.RESULT or not submission.shadowed or not sampled(submission):
        return []
    delivery = Delivery.objects.select_related("submission").get(pk=delivery.pk)  # its recorded outcome
    done = set(Comparison.objects.filter(delivery=delivery).values_list("noise", flat=True))
    statuses = []
    for path, noise in _candidates(submission):
        if noise in done:
            continue
        comparison = _new(delivery.submission, Comparison.Trigger.RESULT, path, noise, delivery=delivery)
        for name, value in _decide(comparison).items():
            setattr(comparison, name, value)
        comparison.save()
        statuses.append(comparison.status)
        _after(comparison)
    return statuses


# --- off the request path (where: ``scheduling``) --------------------------------------------------


def _shed_fields(reason: str) -> dict:
    fields = {"status": Comparison.Status.SHED, "error": reason[:2000], "compared_at": timezone.now()}
    if not get_setting("SHADOW")["STORE_FULL_VALUES"]:
        fields["reply"] = ""
    return fields


def shed_result(delivery: Delivery, reason: str) -> list[str]:
    """
    Record the result of a final delivery of a sampled shadow submission as shed (not compared: the shadow
    thread was too far behind), one cheap insert; returns the statuses written, maybe none. What is known
    without a dry run is kept: an authoritative delivery given up is the control's error, for the guardrail.
    """
    submission = delivery.submission
    if delivery.kind != Delivery.Kind.RESULT or not submission.shadowed or not sampled(submission):
        return []
    done = set(Comparison.objects.filter(delivery=delivery).values_list("noise", flat=True))
    control_error = DELIVERY_FAILED if delivery.status == Delivery.Status.DEAD else ""
    rows = [
        _new(submission, Comparison.Trigger.RESULT, path, noise, delivery=delivery, control_error=control_error,
             **_shed_fields(reason))
        for path, noise in _candidates(submission) if noise not in done
    ]
    Comparison.objects.bulk_create(rows)
    if control_error:
        for row in rows:
            _after(row)
    return [row.status for row in rows]


def shed_pending(ids, reason: str) -> int:
    """
    Record the pending comparisons of ``ids`` still pending as shed; returns how many. A refused reply's
    control error is known without a dry run (the event path could not score it: the only refusal that
    is compared), so it is kept for the guardrail.
    """
    ids = list(ids)
    shed = Comparison.objects.filter(pk__in=ids, status=Comparison.Status.PENDING).update(
        control_error=Case(When(trigger=Comparison.Trigger.REFUSAL, then=Value(UNSCORABLE_REPLY)),
                           default=F("control_error")),
        **_shed_fields(reason),
    )
    if shed:
        for comparison in Comparison.objects.filter(pk__in=ids, status=Comparison.Status.SHED).exclude(
                control_error=""):
            _after(comparison)
    return shed


def run_after_commit(ids: list[int]) -> None:
    """Decide pending comparisons once the reply is committed: inline ("sync"), in the shadow thread
    ("thread", shed past MAX_LAG), or by the worker's drainer ("celery", "worker")."""
    if not ids:
        return
    mode = get_setting("DELIVERY_MODE")
    if mode in ("sync", "thread"):
        transaction.on_commit(
            lambda: later(lambda: run_all(ids), lambda reason: shed_pending(ids, reason)), robust=True
        )


# --- conduct -----------------------------------------------------------------------------------------


def _learner_sees(observation: Observation, shown: Observation) -> Observation:
    """``observation`` with the learner-visible outcome of ``shown`` (e.g. the failure notice)."""
    return attr.evolve(
        observation, points_earned=shown.points_earned, learner_points=shown.learner_points,
        points_possible=shown.points_possible,
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
            detail=redact(delivery.last_error, submission.lms_key, submission.pullkey),
        )
        if submission.deliveries.filter(kind=Delivery.Kind.FAILURE_NOTICE).exists():
            notice = observe(comparison.control_path, submission, failure_notice_body(), before)
            return _learner_sees(control, notice)
        return _learner_sees(control, unchanged(control.path, before, None, ""))
    if comparison.trigger == Comparison.Trigger.REFUSAL and comparison.context.get("notice"):
        notice = observe(comparison.control_path, submission, failure_notice_body(), before)
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
        "learner_status": verdict.learner_status,
        "record_status": verdict.record_status,
        "learner_categories": list(verdict.learner_categories),
        "record_categories": list(verdict.record_categories),
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
        fields["control_values"] = {**verdict.control, "detail": redact(control.detail, *secrets)}
        fields["candidate_values"] = {**verdict.candidate, "detail": redact(candidate.detail, *secrets)}
    else:
        fields["reply"] = ""
    return fields


def _decide(comparison: Comparison) -> dict:
    """The fields of the decided comparison: the verdict, or ``errored`` and why."""
    try:
        return _published(comparison, *conduct(comparison))
    except Exception as exc:  # the candidate or the comparator failed: recorded, never raised
        log.exception("shadow comparison of submission %s failed", comparison.submission_id)
        submission = comparison.submission
        reason = redact(f"{type(exc).__name__}: {exc}", submission.lms_key, submission.pullkey)
        fields = {"status": Comparison.Status.ERRORED, "error": reason[:2000], "compared_at": timezone.now()}
        if not get_setting("SHADOW")["STORE_FULL_VALUES"]:
            fields["reply"] = ""
        return fields


def _after(comparison: Comparison) -> None:
    if comparison.noise:
        return
    try:
        guardrail.after_comparison(comparison)
    except Exception:
        log.exception("guardrail check after comparison %s failed", comparison.pk)


def run(comparison_id: int) -> str | None:
    """Decide one pending comparison; its status, or None if it was not pending (decided elsewhere)."""
    comparison = (
        Comparison.objects.select_related("submission", "delivery")
        .filter(pk=comparison_id, status=Comparison.Status.PENDING)
        .first()
    )
    if comparison is None:
        return None
    fields = _decide(comparison)
    updated = Comparison.objects.filter(pk=comparison.pk, status=Comparison.Status.PENDING).update(**fields)
    if not updated:
        return None
    _after(comparison)
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


def settled(hours: float = 24.0) -> bool:
    """
    Whether shadow mode has caught up: no pending comparison, and every result delivered or given up in
    the last ``hours`` for a sampled shadow submission compared or shed. For the demo, tests and benchmarks (it
    reads every such delivery); operators read ``xqueue-bridge shadow-report`` instead.
    """
    if Comparison.objects.filter(status=Comparison.Status.PENDING).exists():
        return False
    waiting = Delivery.objects.filter(
        kind=Delivery.Kind.RESULT, status__in=[Delivery.Status.DELIVERED, Delivery.Status.DEAD],
        finished_at__gte=timezone.now() - timedelta(hours=hours),
        submission__stage__in=[Stage.SHADOW_CALLBACK, Stage.SHADOW_EVENT], comparisons__isnull=True,
    ).select_related("submission")
    return not any(sampled(delivery.submission) for delivery in waiting)


def drain(limit: int = 100) -> int:
    """The worker's share of shadow mode: decide what is ready and run the periodic guardrail check."""
    done = run_all(ready_ids(limit))
    return done + guardrail.periodic_check()

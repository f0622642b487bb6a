"""
The migration dashboard (``/cockpit/``), for staff: the whole migration on one page, the courses with
their stage and readiness, and one page per course with its one action (move a stage on, or back).
Pages are rendered on the server, charts as inline SVG; nothing is loaded from another site.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from toggles.exceptions import TogglesError
from xqueue_bridge import monitoring
from xqueue_bridge.cockpit import api, charts, courses, moves, stats
from xqueue_bridge.errors import CourseMoveRefused
from xqueue_bridge.models import Stage
from xqueue_bridge.stage import rollout

STAGES = list(Stage.values)
MAX_ORGS_ON_MAP = 60


def annotated(view):
    """A dashboard page carries its name (and its course) as custom attributes, as the API's requests do."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        monitoring.annotate(endpoint="cockpit." + view.__name__.removesuffix("_view"), course=kwargs.get("course"))
        return view(request, *args, **kwargs)

    return wrapper


def _bucket(request: HttpRequest) -> tuple[str, int]:
    return ("day", 30) if request.GET.get("bucket") == "day" else ("hour", 48)


@staff_member_required
@annotated
def overview_view(request: HttpRequest) -> HttpResponse:
    bucket, periods = _bucket(request)
    figures = api.overview()
    orgs = sorted(figures["orgs"], key=lambda org: -sum(org[stage] for stage in STAGES))
    volume = stats.volume_series(bucket, periods)
    matches = stats.match_series(bucket, periods)
    return render(request, "cockpit/overview.html", {
        "figures": figures, "stages": STAGES, "bucket": bucket,
        "stage_map": charts.stage_map(orgs[:MAX_ORGS_ON_MAP], STAGES, "Courses per org and stage"),
        "more_orgs": max(0, len(orgs) - MAX_ORGS_ON_MAP),
        "volume_chart": charts.stacked_bars(volume, ["callback", "event", "failure_notice"],
                                            f"Results delivered per {bucket} by path"),
        "volume_total": {key: sum(point[key] for point in volume) for key in ("callback", "event", "failure_notice")},
        "match_chart": charts.rate_line(matches, "match_rate", f"Learner-visible match rate per {bucket}"),
        "match_total": {key: sum(point[key] for point in matches)
                        for key in ("matched", "mismatched", "ignored", "errored", "shed")},
        "queues": stats.queue_lengths(),
        "history": rollout.history(limit=15),
        "colors": charts.COLORS,
    })


@staff_member_required
@annotated
def course_list_view(request: HttpRequest) -> HttpResponse:
    stage = request.GET.get("stage") if request.GET.get("stage") in STAGES else None
    org, search = request.GET.get("org") or None, request.GET.get("q") or None
    rows = courses.course_stages(org=org, stage=stage, search=search)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    for row in page.object_list:  # readiness for the rows shown only
        row["readiness"] = courses.readiness_of(row["course"], row["stage"])
    return render(request, "cockpit/courses.html", {
        "page": page, "stages": STAGES, "stage": stage, "org": org or "", "q": search or "", "count": len(rows),
    })


def _course_or_404(course: str) -> str:
    try:
        return rollout.parse_target(course).value
    except TogglesError:
        raise Http404(f"{course!r} is not a course key")


@staff_member_required
@annotated
def course_view(request: HttpRequest, course: str) -> HttpResponse:
    return _course_page(request, _course_or_404(course))


def _course_page(request: HttpRequest, course: str, refusal: CourseMoveRefused | None = None,
                 status: int = 200) -> HttpResponse:
    bucket, periods = _bucket(request)
    detail = courses.detail(course)
    return render(request, "cockpit/course.html", {
        **detail, "refusal": refusal, "bucket": bucket,
        "next_stage": moves.neighbour(detail["stage"], "next"),
        "previous_stage": moves.neighbour(detail["stage"], "back"),
        "volume_chart": charts.stacked_bars(stats.volume_series(bucket, periods, course=course),
                                            ["callback", "event", "failure_notice"], f"Results per {bucket} by path"),
        "match_chart": charts.rate_line(stats.match_series(bucket, periods, course=course), "match_rate",
                                        f"Match rate per {bucket}"),
        "admin": {
            "submissions": courses.admin_submissions_url(course),
            "deliveries": courses.admin_deliveries_url(course),
            "dead": courses.admin_deliveries_url(course, "dead"),
            "comparisons": courses.admin_comparisons_url(course),
        },
        "api_url": reverse("cockpit-api-course", args=[course]),
    }, status=status)


@require_POST
@staff_member_required
@annotated
def move_view(request: HttpRequest, course: str) -> HttpResponse:
    course = _course_or_404(course)
    try:
        move = moves.move_course(
            course, request.POST.get("direction", ""), reason=request.POST.get("reason", ""),
            force=request.POST.get("force") == "on", changed_by=request.user.get_username(), user=request.user,
        )
    except CourseMoveRefused as refusal:
        return _course_page(request, course, refusal=refusal, status=409)
    messages.success(request, f"{move.course} moved from {move.from_stage} to {move.to_stage}"
                     + (" (forced past readiness)" if move.forced else ""))
    return redirect("cockpit-course", course=course)

"""
The operators' API (``/api/v1/``): the dashboard's data and actions for automation. Staff only (session or
token), lists paginated (``?page=``), OpenAPI schema at ``/api/schema/``. Views stay thin over ``stats``,
``courses``, ``moves``, the rollout, shadow's report and the outbox's replay.
"""

from __future__ import annotations

import attr
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from toggles.exceptions import TogglesError
from xqueue_bridge import monitoring
from xqueue_bridge.cockpit import courses, moves, serializers, stats
from xqueue_bridge.errors import CourseMoveRefused
from xqueue_bridge.models import Delivery, Stage
from xqueue_bridge.outbox import replay
from xqueue_bridge.shadow.report import GROUPINGS, parse_since, shadow_report
from xqueue_bridge.stage import rollout

ORG = OpenApiParameter("org", str, description="only this org's courses")
COURSE = OpenApiParameter("course", str, description="a course key")


def _choice(request, name: str, allowed, default=None):
    value = request.query_params.get(name, default)
    if value is not None and value not in allowed:
        raise ValidationError({name: f"{value!r}: expected one of {', '.join(map(str, allowed))}"})
    return value


def _int(request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    try:
        value = default if text is None else int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ValidationError({name: f"{text!r}: expected a whole number from {low} to {high}"})
    return value


def _course(value: str) -> str:
    try:
        return rollout.parse_target(value).value
    except TogglesError as exc:
        raise ValidationError({"course": str(exc)})


class OperatorsView(APIView):
    """Every operators' API request carries its endpoint (and its course) as custom attributes."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        monitoring.annotate(endpoint=f"api.{type(self).__name__}", course=kwargs.get("course"))


class ListView(OperatorsView, GenericAPIView):
    """A paginated list of rows built in Python (the number of courses, not of comparisons)."""

    def page(self, rows, serializer_class):
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializer_class(page, many=True).data)


class CourseListView(ListView):
    serializer_class = serializers.CourseStageSerializer

    @extend_schema(
        operation_id="courses_list", parameters=[ORG, OpenApiParameter("stage", str, enum=Stage.values),
                               OpenApiParameter("search", str)])
    def get(self, request):
        stage = _choice(request, "stage", Stage.values)
        rows = courses.course_stages(org=request.query_params.get("org"), stage=stage,
                                     search=request.query_params.get("search"))
        return self.page(rows, self.serializer_class)


class CourseDetailView(OperatorsView):
    @extend_schema(
        operation_id="course_detail", responses=serializers.CourseDetailSerializer)
    def get(self, request, course: str):
        data = courses.detail(_course(course))
        data["readiness"] = attr.asdict(data["readiness"])
        data["history"] = [attr.asdict(change) for change in data["history"]]
        return Response(serializers.CourseDetailSerializer(data).data)


class CourseMoveView(OperatorsView):
    @extend_schema(
        operation_id="course_move", request=serializers.MoveRequestSerializer,
                   responses={200: serializers.MoveSerializer, 409: serializers.RefusalSerializer})
    def post(self, request, course: str):
        course = _course(course)
        body = serializers.MoveRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            move = moves.move_course(course, body.validated_data["direction"], reason=body.validated_data["reason"],
                                     force=body.validated_data["force"], changed_by=request.user.get_username(),
                                     user=request.user)
        except CourseMoveRefused as exc:
            return Response({"detail": exc.message, "reasons": list(exc.reasons)}, status=status.HTTP_409_CONFLICT)
        return Response(serializers.MoveSerializer(attr.asdict(move)).data)


class HistoryView(ListView):
    serializer_class = serializers.ChangeSerializer

    @extend_schema(
        operation_id="history_list", parameters=[COURSE, ORG])
    def get(self, request):
        course, org = request.query_params.get("course"), request.query_params.get("org")
        try:
            changes = rollout.history(course=course, org=org if not course else None, limit=1000)
        except TogglesError as exc:
            raise ValidationError({"course" if course else "org": str(exc)})
        return self.page([attr.asdict(change) for change in changes], self.serializer_class)


class ReadinessView(ListView):
    """Readiness is computed for the courses of the page asked for, never for every course at once."""

    serializer_class = serializers.ReadinessSerializer

    @extend_schema(
        operation_id="readiness_list", parameters=[ORG, OpenApiParameter("stage", str, enum=Stage.values)])
    def get(self, request):
        stage = _choice(request, "stage", Stage.values)
        rows = self.paginate_queryset(courses.course_stages(org=request.query_params.get("org"), stage=stage))
        items = [attr.asdict(courses.readiness_of(row["course"], row["stage"])) for row in rows]
        return self.get_paginated_response(self.serializer_class(items, many=True).data)


class ShadowReportView(OperatorsView):
    @extend_schema(
        operation_id="shadow_report",
        parameters=[OpenApiParameter("since", str, description="24h, 7d or an ISO date"),
                    OpenApiParameter("by", str, enum=list(GROUPINGS)), COURSE, ORG, OpenApiParameter("queue", str)],
        responses=serializers.ShadowReportSerializer,
    )
    def get(self, request):
        params = request.query_params
        try:
            since = parse_since(params["since"]) if params.get("since") else None
        except ValueError as exc:
            raise ValidationError({"since": str(exc)})
        by = _choice(request, "by", list(GROUPINGS), "course")
        report = shadow_report(since=since, by=by, course=params.get("course"), org=params.get("org"),
                               queue=params.get("queue"), examples=_int(request, "examples", 3, 0, 50))
        return Response(report)


class DeliveryListView(ListView):
    serializer_class = serializers.DeliverySerializer

    @extend_schema(
        operation_id="deliveries_list",
        parameters=[OpenApiParameter("status", str, enum=Delivery.Status.values), COURSE,
                    OpenApiParameter("queue", str)],
    )
    def get(self, request):
        deliveries = Delivery.objects.select_related("submission").order_by("-id")
        if value := _choice(request, "status", Delivery.Status.values):
            deliveries = deliveries.filter(status=value)
        if value := request.query_params.get("course"):
            deliveries = deliveries.filter(submission__course_id=value)
        if value := request.query_params.get("queue"):
            deliveries = deliveries.filter(submission__queue_name=value)
        return self.page(deliveries, self.serializer_class)


class ReplayView(OperatorsView):
    @extend_schema(
        operation_id="deliveries_replay", request=serializers.ReplayRequestSerializer,
        responses=serializers.ReplaySerializer,
    )
    def post(self, request):
        body = serializers.ReplayRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        selected = replay.select(ids=data["ids"], course_id=data.get("course"), queue_name=data.get("queue"),
                                 since=data.get("since"), until=data.get("until"))
        listed = list(selected[:1000])
        replayed = [] if data["dry_run"] else replay.replay(selected, changed_by=request.user.get_username())
        return Response(serializers.ReplaySerializer(
            {"dry_run": data["dry_run"], "selected": listed, "replayed": replayed}).data)


class QueuesView(OperatorsView):
    @extend_schema(
        operation_id="queues_list", responses=serializers.QueueLengthSerializer(many=True))
    def get(self, request):
        return Response(serializers.QueueLengthSerializer(stats.queue_lengths(), many=True).data)


def overview() -> dict:
    stages = {row["course"]: row["stage"] for row in courses.course_stages()}
    counts = stats.stage_counts(stages)
    return {"courses": len(stages), "stages": counts["total"], "orgs": counts["orgs"],
            "deliveries": stats.delivery_backlog(), "latency": stats.latency()}


class OverviewView(OperatorsView):
    @extend_schema(
        operation_id="overview", responses=serializers.OverviewSerializer)
    def get(self, request):
        return Response(serializers.OverviewSerializer(overview()).data)


BUCKET = OpenApiParameter("bucket", str, enum=list(stats.BUCKETS))
PERIODS = OpenApiParameter("periods", OpenApiTypes.INT, description="how many hours or days, 1 to 400")


class SeriesView(OperatorsView):
    """A time series of ``stats`` by hour or day: ``series(bucket, periods, course=...)``."""

    series = None
    serializer = None
    default_bucket, default_periods = "hour", 48

    def get(self, request):
        bucket = _choice(request, "bucket", list(stats.BUCKETS), self.default_bucket)
        points = type(self).series(bucket, _int(request, "periods", self.default_periods, 1, 400),
                                   course=request.query_params.get("course"))
        return Response(self.serializer(points, many=True).data)


@extend_schema_view(get=extend_schema(operation_id="series_volume", parameters=[BUCKET, PERIODS, COURSE],
                                      responses=serializers.VolumePointSerializer(many=True)))
class VolumeSeriesView(SeriesView):
    series, serializer = staticmethod(stats.volume_series), serializers.VolumePointSerializer


@extend_schema_view(get=extend_schema(operation_id="series_comparisons", parameters=[BUCKET, PERIODS, COURSE],
                                      responses=serializers.MatchPointSerializer(many=True)))
class MatchSeriesView(SeriesView):
    series, serializer = staticmethod(stats.match_series), serializers.MatchPointSerializer
    default_bucket, default_periods = "day", 30

"""What the operators' API answers and accepts; the commands print their JSON through the same ones."""

from __future__ import annotations

from rest_framework import serializers

from xqueue_bridge.models import Delivery, Stage
from xqueue_bridge.outbox.replay import describe


class CourseStageSerializer(serializers.Serializer):
    course = serializers.CharField()
    org = serializers.CharField()
    stage = serializers.ChoiceField(choices=Stage.choices)
    reason = serializers.CharField()


class ReadinessSerializer(serializers.Serializer):
    course_id = serializers.CharField()
    stage = serializers.CharField()
    next_stage = serializers.CharField(allow_null=True)
    ready = serializers.BooleanField()
    comparisons = serializers.IntegerField()
    hours = serializers.FloatField(allow_null=True)
    mismatch_rate = serializers.FloatField(allow_null=True)
    error_rate = serializers.FloatField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())
    state = serializers.CharField(help_text="ready | not ready | no data | last stage")
    record_differences = serializers.IntegerField()
    record_difference_rate = serializers.FloatField(allow_null=True)
    notes = serializers.ListField(child=serializers.CharField())
    shed = serializers.IntegerField(help_text="sampled results shed under load, in no count or rate")


class ChangeSerializer(serializers.Serializer):
    changed_at = serializers.DateTimeField()
    changed_by = serializers.CharField()
    scope = serializers.CharField()
    target = serializers.CharField()
    change = serializers.CharField()
    reason = serializers.CharField()
    forced = serializers.CharField(allow_blank=True, help_text="courses moved past an unmet readiness, and why")


class CourseDetailSerializer(CourseStageSerializer):
    readiness = ReadinessSerializer()
    history = ChangeSerializer(many=True)
    admin_url = serializers.CharField()


class MoveRequestSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=["next", "back"])
    reason = serializers.CharField(max_length=255)
    force = serializers.BooleanField(default=False)


class MoveSerializer(serializers.Serializer):
    course = serializers.CharField()
    from_stage = serializers.CharField()
    to_stage = serializers.CharField()
    forced = serializers.BooleanField()
    reason = serializers.CharField()
    readiness = serializers.ListField(child=serializers.CharField())


class RefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class DeliverySerializer(serializers.Serializer):
    """A delivery as operators read it (no event data, no header: they carry the LMS's key)."""

    id = serializers.IntegerField(source="pk")
    submission = serializers.IntegerField(source="submission_id")
    course = serializers.CharField(source="submission.course_id")
    queue = serializers.CharField(source="submission.queue_name")
    stage = serializers.CharField(source="submission.stage")
    kind = serializers.ChoiceField(choices=Delivery.Kind.choices)
    path = serializers.CharField()
    status = serializers.ChoiceField(choices=Delivery.Status.choices)
    attempts = serializers.IntegerField()
    created = serializers.DateTimeField(source="created_at")
    next_attempt_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    replay = serializers.SerializerMethodField()

    def get_replay(self, delivery) -> str | None:
        return describe(delivery) if delivery.status == Delivery.Status.DEAD else None


class ReplayRequestSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
    course = serializers.CharField(required=False, allow_blank=False)
    queue = serializers.CharField(required=False, allow_blank=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    dry_run = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if not (attrs.get("ids") or any(attrs.get(name) for name in ("course", "queue", "since", "until"))):
            raise serializers.ValidationError("say which deliveries: ids, course, queue, since or until")
        return attrs


class ReplaySerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    selected = DeliverySerializer(many=True)
    replayed = serializers.ListField(child=serializers.IntegerField())


class QueueLengthSerializer(serializers.Serializer):
    queue = serializers.CharField()
    status = serializers.CharField()
    count = serializers.IntegerField()
    oldest_age = serializers.FloatField(allow_null=True, help_text="seconds")


class BacklogPartSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    oldest_age = serializers.FloatField(allow_null=True)


class LatencySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    p50 = serializers.FloatField(allow_null=True)
    p99 = serializers.FloatField(allow_null=True)


class OverviewSerializer(serializers.Serializer):
    courses = serializers.IntegerField()
    stages = serializers.DictField(child=serializers.IntegerField())
    orgs = serializers.ListField(child=serializers.DictField())
    deliveries = serializers.DictField(child=serializers.JSONField())
    latency = serializers.DictField(child=LatencySerializer())


class VolumePointSerializer(serializers.Serializer):
    period = serializers.CharField()
    callback = serializers.IntegerField()
    event = serializers.IntegerField()
    failure_notice = serializers.IntegerField()


class MatchPointSerializer(serializers.Serializer):
    period = serializers.CharField()
    pending = serializers.IntegerField()
    matched = serializers.IntegerField()
    mismatched = serializers.IntegerField()
    ignored = serializers.IntegerField()
    errored = serializers.IntegerField()
    shed = serializers.IntegerField(help_text="sampled but not compared: the shadow thread was over MAX_LAG behind")
    match_rate = serializers.FloatField(allow_null=True)


class ShadowReportSerializer(serializers.Serializer):
    generated_at = serializers.CharField()
    since = serializers.CharField(allow_null=True)
    by = serializers.CharField()
    groups = serializers.ListField(child=serializers.DictField())
    clean_rules = serializers.ListField(child=serializers.DictField())
    ignore_rules = serializers.ListField(child=serializers.DictField())

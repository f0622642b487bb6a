"""Read-only admin of the shadow comparison: comparisons with their differing fields, guardrail moves."""

from django.contrib import admin

from xqueue_bridge.admin import ReadOnlyAdmin
from xqueue_bridge.shadow.models import Comparison, GuardrailMove


@admin.register(Comparison)
class ComparisonAdmin(ReadOnlyAdmin):
    list_display = (
        "id", "submission", "course_id", "stage", "trigger", "control_path", "candidate_path", "noise", "status",
        "categories", "created_at",
    )
    list_filter = ("status", "stage", "trigger", "noise", "control_path")
    search_fields = ("=id", "=submission__id", "course_id", "org", "queue_name")
    date_hierarchy = "created_at"
    exclude = ("reply",)  # a refused reply while pending: grader text, not for the admin


@admin.register(GuardrailMove)
class GuardrailMoveAdmin(ReadOnlyAdmin):
    list_display = ("course_id", "from_stage", "to_stage", "results", "mismatch_rate", "error_rate", "created_at")
    search_fields = ("course_id",)

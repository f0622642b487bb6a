"""Read-only admin of the standalone sink: learner problem states and the update log."""

from django.contrib import admin

from xqueue_bridge.admin import ReadOnlyAdmin
from xqueue_bridge.sink.models import LearnerUpdate, ProblemState


class LearnerUpdateInline(admin.TabularInline):
    model = LearnerUpdate
    fields = ("created_at", "via", "dispatch", "valid_reply", "applied", "npoints", "correctness", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProblemState)
class ProblemStateAdmin(ReadOnlyAdmin):
    list_display = (
        "usage_key",
        "user_id",
        "course_id",
        "correctness",
        "npoints",
        "max_score",
        "queued",
        "updated_at",
    )
    list_filter = ("correctness",)
    search_fields = ("usage_key", "user_id", "anonymous_student_id", "course_id")
    # The queue key is the LMS's secret: shown only as "queued" or not.
    exclude = ("queuekey",)
    inlines = [LearnerUpdateInline]

    @admin.display(boolean=True, description="queued")
    def queued(self, obj: ProblemState) -> bool:
        return obj.queuekey is not None


@admin.register(LearnerUpdate)
class LearnerUpdateAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "problem",
        "via",
        "dispatch",
        "valid_reply",
        "applied",
        "npoints",
        "correctness",
        "created_at",
    )
    list_filter = ("via", "dispatch", "applied", "valid_reply")
    exclude = ("queuekey", "applied_key")

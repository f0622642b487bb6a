"""
Admin views of the queue: submissions with their stage and reason, the delivery outbox, and the roles of
the XQueue accounts (a column of the user list; roles are groups, assigned on each user's page).
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Q

from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.outbox import replay
from xqueue_bridge.redaction import redact_json
from xqueue_bridge.roles import access_from_groups

# Secrets are never shown: the keys themselves, the LMS header and event data, which carry lms_key (shown
# redacted instead), and the stored paths of uploaded files, whose random folder is what their URL grants
# (their names are shown instead).
SECRET_FIELDS = ("lms_key", "pullkey", "xqueue_header", "files")
DELIVERY_SECRET_FIELDS = ("event_data",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records only the bridge writes (comparisons, guardrail moves, the sink's learner states): viewable,
    never added, edited or deleted by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class InputFilter(admin.SimpleListFilter):
    """A text box instead of a list of links: with 10,000 courses a list would not help anyone."""

    template = "xqueue_bridge/admin_input_filter.html"
    placeholder = ""
    field = ""

    def lookups(self, request, model_admin):
        return [("", "All")] if self.value() else []

    def choices(self, changelist):
        self.other_params = [  # the other filters in force, kept when this box is submitted
            (key, value)
            for key, values in changelist.get_filters_params().items() if key != self.parameter_name
            for value in (values if isinstance(values, list) else [values])
        ]
        if self.value():
            yield {"selected": False, "query_string": changelist.get_query_string(remove=[self.parameter_name]),
                   "display": f"All (clear {self.value()})"}

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(self.condition(value)) if value else queryset

    def condition(self, value):
        return Q(**{self.field: value})


class CourseFilter(InputFilter):
    title = "course"
    parameter_name = "course"
    placeholder = "course-v1:edX+DemoX+2026"
    field = "course_id"


class OrgFilter(InputFilter):
    title = "org"
    parameter_name = "org"
    placeholder = "edX"
    field = "course_id"

    def condition(self, value):
        starts = f"{self.field}__startswith"
        return Q(**{starts: f"course-v1:{value}+"}) | Q(**{starts: f"{value}/"})


class DeliveryCourseFilter(CourseFilter):
    field = "submission__course_id"


class DeliveryOrgFilter(OrgFilter):
    field = "submission__course_id"


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("kind", "path", "status", "attempts", "next_attempt_at", "last_error", "finished_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "queue_name", "course_id", "stage", "stage_reason", "status", "pull_count", "created_at")
    list_filter = ("stage", "status", "queue_name", CourseFilter, OrgFilter)
    search_fields = ("=id", "course_id", "usage_key", "user_id")
    exclude = SECRET_FIELDS
    inlines = [DeliveryInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Submission._meta.fields if f.name not in SECRET_FIELDS] + ["lms_header", "file_names"]

    @admin.display(description="xqueue header (lms_key redacted)")
    def lms_header(self, obj):
        return redact_json(obj.xqueue_header, ("lms_key",), obj.lms_key)

    @admin.display(description="uploaded files")
    def file_names(self, obj):
        return ", ".join(sorted(obj.files)) or "-"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id", "submission", "course", "stage", "kind", "path", "status", "attempts", "next_attempt_at", "last_error"
    )
    list_filter = ("status", "path", "kind", "submission__stage", DeliveryCourseFilter, DeliveryOrgFilter)
    list_select_related = ("submission",)
    search_fields = ("=id", "=submission__id", "submission__course_id")
    actions = ["replay_selected"]
    exclude = DELIVERY_SECRET_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Delivery._meta.fields if f.name not in DELIVERY_SECRET_FIELDS] + ["event"]

    @admin.display(description="course", ordering="submission__course_id")
    def course(self, obj):
        return obj.submission.course_id

    @admin.display(description="stage", ordering="submission__stage")
    def stage(self, obj):
        return obj.submission.stage

    @admin.display(description="event data (queue_key redacted)")
    def event(self, obj):
        if obj.event_data is None:
            return "-"
        return {key: "[redacted]" if key == "queue_key" else value for key, value in obj.event_data.items()}

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Replay the selected dead deliveries")
    def replay_selected(self, request, queryset):
        replayed = replay.replay(queryset.filter(status=Delivery.Status.DEAD), changed_by=request.user.get_username())
        messages.info(request, f"{len(replayed)} deliveries queued again")


if admin.site.is_registered(get_user_model()) and isinstance(admin.site.get_model_admin(get_user_model()), UserAdmin):

    class XQueueUserAdmin(type(admin.site.get_model_admin(get_user_model()))):
        """Django's user admin with each account's XQueue roles; roles are its groups (see roles.py)."""

        list_display = (*UserAdmin.list_display, "xqueue_roles")

        def get_queryset(self, request):
            return super().get_queryset(request).prefetch_related("groups")

        @admin.display(description="XQueue roles")
        def xqueue_roles(self, obj):
            return access_from_groups((group.name for group in obj.groups.all()), obj.is_active).describe()

    admin.site.unregister(get_user_model())
    admin.site.register(get_user_model(), XQueueUserAdmin)

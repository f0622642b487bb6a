"""Connects the plugins' signal receivers, as edx-platform's plugins app does in its ready()."""

from django.apps import AppConfig
from edx_django_utils.plugins import connect_plugin_receivers


class CoursewareConfig(AppConfig):
    name = "tests.lms_host.courseware"
    label = "lms_host_courseware"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tests.lms_host.courseware import handlers  # noqa: F401  (connects the score event receiver)

        connect_plugin_receivers("lms.djangoapp")

"""Django application of the course-scoped rollout flags."""

from django.apps import AppConfig


class TogglesConfig(AppConfig):
    name = "toggles"
    verbose_name = "Course rollout flags"
    default_auto_field = "django.db.models.BigAutoField"

"""Django application of the course-scoped rollout flags."""

from django.apps import AppConfig


class TogglesConfig(AppConfig):
    name = "toggles"
    verbose_name = "Course rollout flags"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import setting_changed
        from django.db.models.signals import post_delete, post_migrate, post_save
        from django.utils.module_loading import autodiscover_modules
        from waffle import get_waffle_flag_model

        from toggles import cache, loading, receivers, signals
        from toggles.conf import get_setting

        cache.store.loader = loading
        signals.history_written.connect(receivers.history_written, dispatch_uid="toggles.history_written")
        flag = get_waffle_flag_model()
        post_save.connect(receivers.waffle_flag_changed, sender=flag, dispatch_uid="toggles.waffle_saved")
        post_delete.connect(receivers.waffle_flag_changed, sender=flag, dispatch_uid="toggles.waffle_deleted")
        post_migrate.connect(receivers.database_reset, dispatch_uid="toggles.database_reset")
        setting_changed.connect(receivers.setting_changed, dispatch_uid="toggles.setting_changed")
        if get_setting("AUTODISCOVER"):
            # Every app's ``flags`` module, so every course flag is known to the admin, report and command.
            autodiscover_modules("flags")

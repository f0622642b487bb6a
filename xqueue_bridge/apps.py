"""
Django application of the bridge's queue, router and delivery; also an Open edX plugin app (``plugin_app``,
found through the ``lms.djangoapp`` entry point by edx-django-utils, as edx-platform loads its plugins).
"""

from django.apps import AppConfig
from django.core import checks
from django.db import DatabaseError
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from edx_django_utils.plugins import PluginSettings, PluginSignals, PluginURLs

LMS = "lms.djangoapp"  # edx-platform's ProjectType.LMS, the entry point group
SETTINGS_TYPES = ("common", "production", "devstack", "test")  # edx-platform's SettingsType values


class XQueueBridgeConfig(AppConfig):
    name = "xqueue_bridge"
    verbose_name = "XQueue bridge"
    default_auto_field = "django.db.models.BigAutoField"

    # Inside an LMS: the XQueue API under PLUGIN_URL_PREFIX (no namespace, so its URL names stay the
    # bridge's), the plugin settings for each settings type, and the outbox's runner on its signal.
    plugin_app = {
        PluginURLs.CONFIG: {
            LMS: {PluginURLs.NAMESPACE: "", PluginURLs.REGEX: r"^", PluginURLs.RELATIVE_PATH: "plugin.urls"},
        },
        PluginSettings.CONFIG: {
            LMS: {kind: {PluginSettings.RELATIVE_PATH: f"plugin.settings.{kind}"} for kind in SETTINGS_TYPES},
        },
        PluginSignals.CONFIG: {
            LMS: {
                PluginSignals.RELATIVE_PATH: "outbox.runners",
                PluginSignals.RECEIVERS: [
                    {
                        PluginSignals.RECEIVER_FUNC_NAME: "start_attempt",
                        PluginSignals.SIGNAL_PATH: "xqueue_bridge.signals.delivery_enqueued",
                        PluginSignals.DISPATCH_UID: "xqueue_bridge.start_attempt",
                    }
                ],
            },
        },
    }

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from toggles import proposals
        from xqueue_bridge import signals
        from xqueue_bridge.checks import check_settings
        from xqueue_bridge.outbox.runners import start_attempt
        from xqueue_bridge.plugin.receivers import register_event_receivers
        from xqueue_bridge.roles import forget_cached_access
        from xqueue_bridge.stage.guard import guard_admin_change

        checks.register(check_event_path_reaches_someone, checks.Tags.compatibility)
        checks.register(check_settings)
        checks.register(check_legacy_accounts, checks.Tags.security, checks.Tags.database)
        checks.register(check_receiving_ends_secret, checks.Tags.security)
        post_migrate.connect(create_role_groups, sender=self, dispatch_uid="xqueue_bridge.create_role_groups")
        # The same dispatch_uid as the plugin signal config: connected once, whoever connects first.
        signals.delivery_enqueued.connect(start_attempt, dispatch_uid="xqueue_bridge.start_attempt")
        register_event_receivers()
        # A role changed in this process takes effect at once; in another, within ROLE_CACHE_TTL.
        m2m_changed.connect(forget_cached_access, sender=get_user_model().groups.through,
                            dispatch_uid="xqueue_bridge.roles.memberships")
        for model in (Group, get_user_model()):  # renamed or deleted groups; accounts deleted or made anew
            name = model._meta.label_lower
            post_save.connect(forget_cached_access, sender=model, dispatch_uid=f"xqueue_bridge.roles.saved.{name}")
            post_delete.connect(forget_cached_access, sender=model, dispatch_uid=f"xqueue_bridge.roles.deleted.{name}")
        # The toggles admin's add forms move stages too: they obey the same guard as the rollout API.
        proposals.register_guard(guard_admin_change)


def check_event_path_reaches_someone(app_configs=None, **kwargs):
    """Warn at start-up when results of event-stage courses could reach nobody (they would stay pending)."""
    from xqueue_bridge.transports.event import NO_RECEIVING_END, receiving_ends

    if receiving_ends():
        return []
    return [
        checks.Warning(
            "Results of courses on the event path would reach no one.",
            hint=NO_RECEIVING_END[0].upper() + NO_RECEIVING_END[1:] + ".",
            id="xqueue_bridge.W001",
        )
    ]


def check_legacy_accounts(app_configs=None, databases=None, **kwargs):
    """
    Warn while an active account is only in the legacy group: it may still both submit and grade, so a
    grader's credentials could supersede learners' submissions. Runs where the database may be read
    (``migrate``, so ``serve``; ``manage check --database default``).
    """
    from xqueue_bridge.conf import get_setting
    from xqueue_bridge.roles import legacy_accounts

    if not databases:
        return []
    try:
        names = list(legacy_accounts().values_list("username", flat=True)[:20])
    except DatabaseError:  # before the first migrate
        return []
    if not names:
        return []
    example = names[0]
    return [
        checks.Warning(
            f"{len(names)}{'+' if len(names) == 20 else ''} XQueue account(s) only in the legacy "
            f"{get_setting('GROUP')!r} group hold every role (submit and grade): {', '.join(names)}.",
            hint=(f"Give each account its role, e.g. `xqueue-bridge users --role {example}=lms` for the LMS's "
                  f"account and `--role NAME=grader` for graders (README, \"Roles\")."),
            id="xqueue_bridge.W002",
        )
    ]


def check_receiving_ends_secret(app_configs=None, **kwargs):
    """A RECEIVING_ENDS_SECRET the callbacks cannot be signed with stops every callback: say so at start-up."""
    from xqueue_bridge.callback_auth import configured_key
    from xqueue_bridge.errors import ConfigurationError

    try:
        configured_key()
    except ConfigurationError as exc:
        return [checks.Error(exc.message, id="xqueue_bridge.E020")]
    return []


def create_role_groups(sender=None, using="default", **kwargs):
    """The role groups exist once the tables do, so that the admin can assign them."""
    from django.contrib.auth.models import Group

    from xqueue_bridge.conf import get_setting
    from xqueue_bridge.roles import role_group_names

    for name in role_group_names(get_setting("QUEUES")):
        Group.objects.using(using).get_or_create(name=name)

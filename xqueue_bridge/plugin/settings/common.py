"""
What the bridge adds to an LMS's settings (``add_plugins(__name__, "lms.djangoapp", "common")``).

Nothing the operator set is overwritten: XQUEUE_BRIDGE entries the LMS's settings (or its YAML) give win
over these plugin defaults, which differ from the standalone ones in three ways: the standalone receiving
ends are off (the LMS has its own), the renderer is the one without learner state (shadow's dry runs only),
and the LMS's receiver of the score event is the event path's receiving end.
"""

# Apps the bridge needs beside itself (the plugin machinery adds only ``xqueue_bridge``): the rollout flags'
# overrides and the shadow comparisons live in the LMS's database.
REQUIRED_APPS = ("waffle", "edx_toggles", "openedx_events", "toggles", "xqueue_bridge.shadow")

PLUGIN_DEFAULTS = {
    "RECEIVING_ENDS": False,
    "RENDERER": "xqueue_bridge.render.CapaRenderer",
    "EVENT_RECEIVERS": ["lms.djangoapps.grades.signals.handlers.handle_external_grader_score"],
}


def plugin_settings(settings) -> None:
    """Add the bridge's apps and its in-LMS defaults to the LMS's settings module."""
    installed = list(settings.INSTALLED_APPS)
    settings.INSTALLED_APPS = installed + [app for app in REQUIRED_APPS if not _installed(app, installed)]
    settings.XQUEUE_BRIDGE = {**PLUGIN_DEFAULTS, **(getattr(settings, "XQUEUE_BRIDGE", None) or {})}


def _installed(app: str, installed: list[str]) -> bool:
    """Whether ``app`` is in INSTALLED_APPS by its module or by an AppConfig of it (a plugin app's entry)."""
    return any(entry == app or entry.startswith(app + ".apps.") for entry in installed)

"""The bridge's settings for an LMS's ``production`` settings: those of ``common`` (the operator's values win)."""

from xqueue_bridge.plugin.settings.common import plugin_settings

__all__ = ["plugin_settings"]

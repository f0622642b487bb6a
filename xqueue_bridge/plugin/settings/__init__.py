"""Plugin settings for each of edx-platform's settings types (``add_plugins`` calls ``plugin_settings``)."""

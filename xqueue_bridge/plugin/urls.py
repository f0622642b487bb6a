"""
The XQueue API inside an LMS, under PLUGIN_URL_PREFIX (default ``xqueue-bridge/``): the LMS's
``XQUEUE_INTERFACE["url"]`` and xqueue-watcher's ``SERVER`` are ``https://LMS/xqueue-bridge``. No admin (the
LMS's own shows the bridge's models) and no standalone receiving ends (the LMS's are the real ones).
"""

from django.urls import include, path

from xqueue_bridge.conf import get_setting
from xqueue_bridge.intake.urls import xqueue_patterns

urlpatterns = [path(get_setting("PLUGIN_URL_PREFIX"), include(xqueue_patterns))]

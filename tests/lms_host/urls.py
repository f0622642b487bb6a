"""The host's URLs: its xqueue_callback, and whatever the plugins bring (``get_plugin_url_patterns``)."""

from django.urls import re_path
from edx_django_utils.plugins import get_plugin_url_patterns

from tests.lms_host.courseware.views import xqueue_callback

urlpatterns = [
    re_path(
        r"^courses/(?P<course_id>[^/]+)/xqueue/(?P<userid>[^/]+)/(?P<mod_id>.*?)/(?P<dispatch>[^/]*)$",
        xqueue_callback, name="xqueue_callback",
    ),
    *get_plugin_url_patterns("lms.djangoapp"),
]

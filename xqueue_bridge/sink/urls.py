"""
URL of the standalone sink's ``xqueue_callback``, in the LMS's shape.

The course id is one segment (``course-v1:Org+Course+Run``) or three (old-style ``Org/Course/Run``);
the usage key is one segment, quoted the LMS's way (``xqueue_bridge.keys``), though, as in the LMS, an
unquoted key with slashes reaches the view too (everything between the user id and the last segment).
"""

from django.urls import re_path

from xqueue_bridge.sink import views

CALLBACK_PATTERN = (
    r"^courses/(?P<course_id>[^/]+/[^/]+/[^/]+|[^/]+)"
    r"/xqueue/(?P<userid>[^/]+)/(?P<mod_id>.+?)/(?P<dispatch>[^/]+)$"
)

urlpatterns = [
    re_path(CALLBACK_PATTERN, views.xqueue_callback, name="xqueue-bridge-sink-callback"),
]

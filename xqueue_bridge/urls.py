"""URLs of a standalone bridge: the XQueue API, uploaded files, the admin, the cockpit and the standalone sink."""

from django.contrib import admin
from django.urls import include, path, re_path

from xqueue_bridge.intake import views

urlpatterns = [
    path("xqueue/login/", views.login_view, name="xqueue-login"),
    path("xqueue/logout/", views.logout_view, name="xqueue-logout"),
    path("xqueue/status/", views.status_view, name="xqueue-status"),
    path("xqueue/submit/", views.submit_view, name="xqueue-submit"),
    path("xqueue/get_queuelen/", views.get_queuelen_view, name="xqueue-get-queuelen"),
    path("xqueue/get_submission/", views.get_submission_view, name="xqueue-get-submission"),
    path("xqueue/put_result/", views.put_result_view, name="xqueue-put-result"),
    re_path(r"^xqueue/files/(?P<path>[A-Za-z0-9_-]+/[A-Za-z0-9._-]+)$", views.file_view, name="xqueue-file"),
    path("admin/", admin.site.urls),
    # The operators' cockpit: /cockpit/ (dashboard), /api/v1/ and /api/schema/, /health/, /metrics.
    path("", include("xqueue_bridge.cockpit.urls")),
    # The standalone sink's xqueue_callback-compatible URL (answers 404 when RECEIVING_ENDS is off).
    path("", include("xqueue_bridge.sink.urls")),
]

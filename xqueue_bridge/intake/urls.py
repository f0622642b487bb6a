"""The XQueue HTTP API's URLs, mounted at the site root (standalone) or under PLUGIN_URL_PREFIX (in an LMS)."""

from django.urls import path, re_path

from xqueue_bridge.intake import views

xqueue_patterns = [
    path("xqueue/login/", views.login_view, name="xqueue-login"),
    path("xqueue/logout/", views.logout_view, name="xqueue-logout"),
    path("xqueue/status/", views.status_view, name="xqueue-status"),
    path("xqueue/submit/", views.submit_view, name="xqueue-submit"),
    path("xqueue/get_queuelen/", views.get_queuelen_view, name="xqueue-get-queuelen"),
    path("xqueue/get_submission/", views.get_submission_view, name="xqueue-get-submission"),
    path("xqueue/put_result/", views.put_result_view, name="xqueue-put-result"),
    re_path(r"^xqueue/files/(?P<path>[A-Za-z0-9_-]+/[A-Za-z0-9._-]+)$", views.file_view, name="xqueue-file"),
]

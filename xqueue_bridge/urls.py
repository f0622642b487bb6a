"""URLs of a standalone bridge: the XQueue API, uploaded files, the admin, the cockpit and the standalone sink."""

from django.contrib import admin
from django.urls import include, path

from xqueue_bridge.intake.urls import xqueue_patterns

urlpatterns = [
    *xqueue_patterns,
    path("admin/", admin.site.urls),
    # The operators' cockpit: /cockpit/ (dashboard), /api/v1/ and /api/schema/, /health/, /metrics.
    path("", include("xqueue_bridge.cockpit.urls")),
    # The standalone sink's xqueue_callback-compatible URL (answers 404 when RECEIVING_ENDS is off).
    path("", include("xqueue_bridge.sink.urls")),
]

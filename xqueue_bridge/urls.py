"""URLs of a standalone bridge."""

from django.urls import include, path

urlpatterns = [
    path("", include("xqueue_bridge.sink.urls")),
]

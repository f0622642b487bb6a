"""URLs of the cockpit: the dashboard, the operators' API and its schema, health and metrics."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from xqueue_bridge.cockpit import api, health, metrics, views

api_urls = [
    path("api/v1/overview/", api.OverviewView.as_view(), name="cockpit-api-overview"),
    path("api/v1/courses/", api.CourseListView.as_view(), name="cockpit-api-courses"),
    path("api/v1/courses/<path:course>/move/", api.CourseMoveView.as_view(), name="cockpit-api-move"),
    path("api/v1/courses/<path:course>/", api.CourseDetailView.as_view(), name="cockpit-api-course"),
    path("api/v1/history/", api.HistoryView.as_view(), name="cockpit-api-history"),
    path("api/v1/readiness/", api.ReadinessView.as_view(), name="cockpit-api-readiness"),
    path("api/v1/shadow-report/", api.ShadowReportView.as_view(), name="cockpit-api-shadow-report"),
    path("api/v1/deliveries/", api.DeliveryListView.as_view(), name="cockpit-api-deliveries"),
    path("api/v1/deliveries/replay/", api.ReplayView.as_view(), name="cockpit-api-replay"),
    path("api/v1/queues/", api.QueuesView.as_view(), name="cockpit-api-queues"),
    path("api/v1/series/volume/", api.VolumeSeriesView.as_view(), name="cockpit-api-volume"),
    path("api/v1/series/comparisons/", api.MatchSeriesView.as_view(), name="cockpit-api-comparisons"),
]

urlpatterns = [
    path("health/", health.health_view, name="cockpit-health"),
    path("metrics", metrics.metrics_view, name="cockpit-metrics"),
    path("cockpit/", views.overview_view, name="cockpit"),
    path("cockpit/courses/", views.course_list_view, name="cockpit-courses"),
    path("cockpit/courses/<path:course>/move/", views.move_view, name="cockpit-move"),
    path("cockpit/courses/<path:course>/", views.course_view, name="cockpit-course"),
    *api_urls,
    # The schema is public like any OpenAPI document (it names no data), so automation can read it first.
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]),
         name="cockpit-api-schema"),
]

from django.urls import path

from bench.floor import views

urlpatterns = [
    path("xqueue/status/", views.status),
    path("xqueue/login/", views.login_view),
    path("xqueue/get_submission/", views.get_submission),
    path("xqueue/put_result/", views.put_result),
]

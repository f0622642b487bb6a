"""A tiny view that decides inside a real request, beside what plain waffle answers for the same flag."""

from __future__ import annotations

import attr
import waffle
from django.http import JsonResponse
from django.urls import path

from xqueue_bridge.flags import EVENT_DELIVERY
from xqueue_bridge.stage.decide import decide_stage


def decisions(request):
    courses = request.GET.getlist("course")
    return JsonResponse(
        {
            "flag": {course: attr.asdict(EVENT_DELIVERY.evaluate(course)) for course in courses},
            "stage": {course: attr.asdict(decide_stage(course)) for course in courses},
            "waffle": waffle.flag_is_active(request, EVENT_DELIVERY.name),
        }
    )


urlpatterns = [path("decisions/", decisions)]

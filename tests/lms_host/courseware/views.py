"""The host's ``xqueue_callback`` view, with edx-platform's contract (CONTRACTS.md §2)."""

import json

from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tests.lms_host.courseware import capa
from tests.lms_host.courseware.models import ProblemState


@csrf_exempt
@require_POST
def xqueue_callback(request, course_id, userid, mod_id, dispatch):
    header, body = request.POST.get("xqueue_header"), request.POST.get("xqueue_body")
    if header is None or body is None:
        raise Http404
    header = json.loads(header)
    if not isinstance(header, dict) or "lms_key" not in header:
        raise Http404
    usage_key = mod_id.replace(";_", "/")
    state = ProblemState.objects.filter(usage_key=usage_key, user_id=int(userid)).first()
    if state is None or dispatch != "score_update":
        raise Http404
    capa.score_update(state.pk, body, header["lms_key"])
    return HttpResponse("")

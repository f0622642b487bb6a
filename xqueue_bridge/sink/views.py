"""
The standalone ``xqueue_callback``: the legacy callback's receiving end, with the LMS's answers.

``POST {root}/courses/{course_id}/xqueue/{userid}/{mod_id}/{dispatch}`` with form fields
``xqueue_header`` (the LMS's header, holding ``lms_key``) and ``xqueue_body`` (the grader's reply).
CSRF-exempt and unauthenticated, as in the LMS. Its answers are the LMS's:

- 404: a field is missing (so any GET); the header is JSON but not an object with ``lms_key``; the sink
  has no state for the learner and problem; the dispatch is neither ``score_update`` nor
  ``ungraded_response``; or RECEIVING_ENDS is off.
- 500: the header is not JSON (the LMS's ``json.loads`` raises), or applying the reply fails as it does in
  the LMS (e.g. a non-numeric ``score``). Nothing is applied.
- 200 with an empty body otherwise, including a duplicate or stale reply that changes nothing.
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError
from django.views.decorators.csrf import csrf_exempt

from xqueue_bridge.conf import get_setting
from xqueue_bridge.errors import UnknownProblem, UpdateRefused
from xqueue_bridge.keys import unquote_slashes
from xqueue_bridge.render.updates import update_from_callback
from xqueue_bridge.sink.renderer import get_applying_renderer

log = logging.getLogger(__name__)


@csrf_exempt
def xqueue_callback(
    request: HttpRequest, course_id: str, userid: str, mod_id: str, dispatch: str
) -> HttpResponse:
    """Apply a grader's reply to the learner's problem, answering as the LMS's view of the same name."""
    if not get_setting("RECEIVING_ENDS"):
        raise Http404("the bridge's receiving ends are off (setting RECEIVING_ENDS)")
    for field in ("xqueue_header", "xqueue_body"):
        if field not in request.POST:
            raise Http404(f"the callback has no {field}")
    try:
        update = update_from_callback(
            course_id=course_id,
            user_id=userid,
            usage_key=unquote_slashes(mod_id),
            dispatch=dispatch,
            xqueue_header=request.POST["xqueue_header"],
            xqueue_body=request.POST["xqueue_body"],
        )
    except UpdateRefused as exc:
        if exc.lms_status == 404:
            raise Http404(exc.message)
        log.warning("callback for %s refused: %s", course_id, exc.message)
        return HttpResponseServerError(exc.message)
    try:
        outcome = get_applying_renderer().apply(update)
    except UnknownProblem as exc:
        raise Http404(exc.message)
    if outcome.error:
        log.warning("callback for %s not applied: %s", update.usage_key, outcome.error)
        return HttpResponseServerError(outcome.error)
    return HttpResponse("")

"""
The standalone ``xqueue_callback``: the legacy callback's receiving end, with the LMS's answers.

``POST {root}/courses/{course_id}/xqueue/{userid}/{mod_id}/{dispatch}`` with form fields
``xqueue_header`` (the LMS's header, holding ``lms_key``) and ``xqueue_body`` (the grader's reply).
CSRF-exempt, as in the LMS. Unlike the LMS's, it accepts only callbacks this bridge signed
(``callback_auth``): it stands in for a learner's grade on the same port as the XQueue API. Before the
LMS's rules it applies the intake's limits:

- 404: RECEIVING_ENDS is off, or a field is missing (so any GET).
- 413: a request over MAX_REQUEST_BYTES, or a body over MAX_REPLY_BYTES.
- 403: no valid signature of this installation. Nothing is read further, nothing changes.
- 400: a field or path part no database stores (NUL, a lone surrogate), or JSON nested too deeply.

Then the LMS's answers:

- 404: the header is JSON but not an object with ``lms_key``; the sink has no state for the learner and
  problem; the dispatch is neither ``score_update`` nor ``ungraded_response``.
- 500: the header is not JSON (the LMS's ``json.loads`` raises), or applying the reply fails as it does in
  the LMS (e.g. a non-numeric ``score``). Nothing is applied.
- 200 with an empty body otherwise, including a duplicate or stale reply that changes nothing.
"""

from __future__ import annotations

import json
import logging

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError
from django.views.decorators.csrf import csrf_exempt

from xqueue_bridge import callback_auth
from xqueue_bridge.conf import get_setting
from xqueue_bridge.errors import InvalidRequest, UnknownProblem, UpdateRefused
from xqueue_bridge.keys import unquote_slashes
from xqueue_bridge.render.updates import update_from_callback
from xqueue_bridge.sink.renderer import get_applying_renderer
from xqueue_bridge.text import nested_too_deeply, require_storable

log = logging.getLogger(__name__)


@csrf_exempt
def xqueue_callback(
    request: HttpRequest, course_id: str, userid: str, mod_id: str, dispatch: str
) -> HttpResponse:
    """Apply a grader's reply to the learner's problem, answering as the LMS's view of the same name."""
    if not get_setting("RECEIVING_ENDS"):
        raise Http404("the bridge's receiving ends are off (setting RECEIVING_ENDS)")
    refused = _refused(request, {"course id": course_id, "user id": userid, "usage key": mod_id,
                                 "dispatch": dispatch})
    if refused is not None:
        return refused
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


def _refused(request: HttpRequest, path_parts: dict[str, str]) -> HttpResponse | None:
    """The intake's limits and the bridge's signature, checked before the LMS's rules; None if all pass."""
    try:
        size = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        size = 0
    if size > get_setting("MAX_REQUEST_BYTES"):
        return HttpResponse(f"request body is larger than {get_setting('MAX_REQUEST_BYTES')} bytes", status=413)
    for field in ("xqueue_header", "xqueue_body"):
        if field not in request.POST:
            raise Http404(f"the callback has no {field}")
    header, body = request.POST["xqueue_header"], request.POST["xqueue_body"]
    if len(body.encode("utf-8", "surrogatepass")) > get_setting("MAX_REPLY_BYTES"):
        return HttpResponse(f"xqueue_body is larger than {get_setting('MAX_REPLY_BYTES')} bytes", status=413)
    if not callback_auth.verify(request.META.get(callback_auth.META_KEY, ""), header, body):
        log.warning("callback to %s refused: not signed by this bridge", request.path[:200])
        return HttpResponse("the callback is not signed by this bridge (RECEIVING_ENDS_SECRET)", status=403)
    try:
        for name, value in {**path_parts, "xqueue_header": header, "xqueue_body": body}.items():
            require_storable(value, name)
        for name, value in (("xqueue_header", header), ("xqueue_body", body)):
            if nested_too_deeply(value):
                raise InvalidRequest(f"{name} is nested too deeply")
        lms_key = _lms_key(header)
        if lms_key is not None:
            require_storable(lms_key, "xqueue_header lms_key")
    except InvalidRequest as exc:
        return HttpResponse(exc.message, status=400)
    return None


def _lms_key(header: str) -> str | None:
    try:
        parsed = json.loads(header)
    except ValueError:
        return None
    value = parsed.get("lms_key") if isinstance(parsed, dict) else None
    return value if isinstance(value, str) else None

"""
The XQueue HTTP API at ``/xqueue/``: thin views over ``xqueue_bridge.intake.queue_api``.

Every reply is ``{"return_code": 0 | 1, "content": ...}``. Wire habits the real clients depend on:
``login``, ``logout``, ``submit`` and ``put_result`` take POSTs without a CSRF token (the LMS's client
sends none, older graders neither); GET ``login`` sets the CSRF cookie (xqueue-watcher fetches it first)
and answers ``login_required``; a request without a session is redirected (302) to ``/xqueue/login/``,
which the LMS's client follows to that ``login_required`` answer and a grader takes as its cue to log
in again. Errors carry an honest HTTP status and say what was wrong.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import logging
import mimetypes
import traceback
from urllib.parse import parse_qsl

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import get_token
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from xqueue_bridge import monitoring, signals
from xqueue_bridge.conf import get_setting
from xqueue_bridge.errors import InvalidRequest, NotInGroup, PayloadTooLarge, RequestRefused, RoleRequired
from xqueue_bridge.intake import queue_api
from xqueue_bridge.intake.parsing import check_files, check_queue, parse_reply, parse_submit
from xqueue_bridge.models import Submission
from xqueue_bridge.roles import GRADER, LMS, Access, access_of, cached_access_of
from xqueue_bridge.text import excerpt, require_storable

log = logging.getLogger(__name__)


def envelope(success: bool, content, status: int = 200) -> JsonResponse:
    return JsonResponse({"return_code": 0 if success else 1, "content": content}, status=status)


def _no_role(username: str) -> str:
    return (
        f"is not in the {get_setting('GROUP')!r} group and has no role (groups {get_setting('LMS_GROUP')!r}, "
        f"{get_setting('GRADER_GROUP')!r}); an operator gives it one with `xqueue-bridge users --role "
        f"{username}=lms` or `--role {username}=grader`"
    )


def _check_role(request: HttpRequest, role: str | None, endpoint: str) -> JsonResponse | None:
    """None if the account may call ``endpoint``; else the 403 that says why. Keeps its access on the request."""
    username = excerpt(request.user.get_username())
    access = request.xqueue_access = cached_access_of(request.user)
    if not access.any:
        return _error(NotInGroup(f"User {username} {_no_role(request.user.get_username())}"))
    if role == LMS and not access.lms or role == GRADER and not access.grader:
        held = " and ".join(access.roles())
        return _error(RoleRequired(
            f"User {username} has the {held} role; {endpoint} needs the {role} role (an operator assigns roles "
            f"with `xqueue-bridge users --role {request.user.get_username()}={role}`)"
        ))
    return None


def require_queue(request: HttpRequest, queue_name: str) -> None:
    """Refuse (403) a grader limited to some queues that asks for another one."""
    access: Access = request.xqueue_access
    if not access.may_grade(queue_name):
        mine = sorted(access.queues or ())
        name = request.user.get_username()
        raise RoleRequired(
            f"User {excerpt(name)} may grade queue {', '.join(mine)}, not {excerpt(queue_name)} (an operator gives "
            f"it more with `xqueue-bridge users --queues {name}={','.join([*mine, queue_name])}`)"
        )


def _basic_auth_ok(request: HttpRequest) -> bool:
    expected = get_setting("HTTP_BASIC_AUTH")
    if not expected:
        return True
    scheme, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    wanted = f"{expected[0]}:{expected[1]}"
    return hmac.compare_digest(given.encode("utf-8"), wanted.encode("utf-8"))


def request_ceiling() -> int:
    """The largest request body the intake reads: MAX_REQUEST_BYTES, or Django's own limit if lower."""
    limit = get_setting("MAX_REQUEST_BYTES")
    django_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return limit if django_limit is None else min(limit, django_limit)


def xqueue_view(*methods: str, session: bool = True, role: str | None = None, oversized=None):
    """
    Wrap an XQueue view: basic auth, method, size limit, session and role, errors as envelopes. A body
    over the size limit is refused with 413, by ``oversized(request, size)`` when the view has one.
    """

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            monitoring.annotate(endpoint=view.__name__.removesuffix("_view"))
            if not _basic_auth_ok(request):
                response = envelope(False, "HTTP basic authentication required", status=401)
                response["WWW-Authenticate"] = 'Basic realm="xqueue"'
                return response
            if request.method not in methods:
                response = envelope(
                    False, f"{request.path} takes {' or '.join(methods)}, not {request.method}", status=405
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                size = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                size = 0
            limit = request_ceiling()
            too_large = size > limit
            if too_large and oversized is None:
                return envelope(False, f"Request body of {size} bytes is over the limit of {limit}", status=413)
            if session and not request.user.is_authenticated:
                return HttpResponseRedirect(reverse("xqueue-login"))
            if session:
                refused = _check_role(request, role, view.__name__.removesuffix("_view"))
                if refused is not None:
                    return refused
            try:
                if too_large:
                    return oversized(request, size)
                return view(request, *args, **kwargs)
            except (RequestDataTooBig, TooManyFilesSent) as exc:
                return _error(PayloadTooLarge(f"Request refused: {exc}"))
            except TooManyFieldsSent as exc:
                return _error(InvalidRequest(f"Request refused: {exc}"))
            except MultiPartParserError as exc:
                return _error(InvalidRequest(f"The multipart body cannot be read ({exc}); send multipart/form-data"))
            except RequestRefused as exc:
                return _error(exc)
            except Exception as exc:
                # Every write of a request is one transaction, so an error here means nothing was recorded.
                # The message of an unexpected error may quote request data (a queue key), so only its type
                # and where it was raised are logged.
                log.error(
                    "XQueue request %s %s failed with %s; nothing was recorded. Raised at:\n%s",
                    request.method, request.path, type(exc).__name__,
                    "".join(traceback.format_tb(exc.__traceback__)),
                )
                return envelope(False, "Internal error: nothing was recorded; send the request again", status=500)

        return wrapper

    return decorate


def _error(exc: RequestRefused) -> JsonResponse:
    log.info("XQueue request refused (%s): %s", exc.http_status, exc.message)
    return envelope(False, exc.message, status=exc.http_status)


@xqueue_view("GET", "POST", session=False)
def login_view(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        get_token(request)  # sets the csrftoken cookie for clients that send X-CSRFToken afterwards
        return envelope(False, "login_required")
    username, password = request.POST.get("username"), request.POST.get("password")
    if not username or password is None:
        raise InvalidRequest("Insufficient login info: POST username and password")
    require_storable(username, "username")  # PostgreSQL cannot even look a NUL up
    user = authenticate(request, username=username, password=password)
    if user is not None and not access_of(user).any:
        # The same answer as a wrong password, so the login is no oracle for the passwords of other accounts
        # (inside an LMS every learner's account authenticates); the log says why.
        log.warning("XQueue login refused: account %s %s", excerpt(username), _no_role(username))
        user = None
    if user is None:
        return envelope(False, "Incorrect login credentials", status=401)
    login(request, user)
    return envelope(True, "Logged in")


@xqueue_view("GET", "POST", session=False)
def logout_view(request: HttpRequest) -> JsonResponse:
    logout(request)
    return envelope(True, "Goodbye")


@xqueue_view("GET", "POST", session=False)
def status_view(request: HttpRequest) -> JsonResponse:
    return envelope(True, "OK")


@xqueue_view("POST", role=LMS)
def submit_view(request: HttpRequest) -> JsonResponse:
    submit_request = parse_submit(request.POST)
    check_files(request.FILES)
    submission, length = queue_api.submit(submit_request, request.FILES)
    monitoring.annotate(**monitoring.submission_fields(submission))
    signals.submission_received.send(sender=Submission, submission=submission)
    return envelope(True, str(length))


def _queue_name(request: HttpRequest, endpoint: str) -> str:
    queue_name = request.GET.get("queue_name")
    if not queue_name:
        raise InvalidRequest(f"'{endpoint}' must provide parameter 'queue_name'")
    check_queue(queue_name)
    require_queue(request, queue_name)
    return queue_name


@xqueue_view("GET", role=GRADER)
def get_queuelen_view(request: HttpRequest) -> JsonResponse:
    queue_name = _queue_name(request, "get_queuelen")
    monitoring.annotate(queue=queue_name)
    return envelope(True, queue_api.queue_length(queue_name))


@xqueue_view("GET", role=GRADER)
def get_submission_view(request: HttpRequest) -> JsonResponse:
    queue_name = _queue_name(request, "get_submission")
    submission = queue_api.pull(queue_name)
    monitoring.annotate(queue=queue_name)
    if submission is None:
        return envelope(False, f"Queue '{queue_name}' is empty")
    monitoring.annotate(**monitoring.submission_fields(submission))

    def file_url(path: str) -> str:
        url = default_storage.url(path)
        if url.startswith(("http://", "https://")):
            return url
        token_path = path.removeprefix(queue_api.FILES_PREFIX + "/")
        return request.build_absolute_uri(reverse("xqueue-file", args=[token_path]))

    return envelope(True, json.dumps(queue_api.grader_payload(submission, file_url)))


def _put_result_answer(outcome: queue_api.PutOutcome) -> JsonResponse:
    monitoring.annotate(accepted=outcome.accepted,
                        **monitoring.submission_fields(outcome.submission))
    if not outcome.accepted:
        log.info("reply for submission %s refused: %s", outcome.submission.pk, outcome.refusal)
        return envelope(False, outcome.refusal, status=413 if outcome.too_large else 422)
    return envelope(True, "")


# How much of an oversized put_result is read to find its header (xqueue-watcher sends it first).
HEADER_PEEK_BYTES = 64 * 1024


def put_result_too_large(request: HttpRequest, size: int) -> JsonResponse:
    """
    A put_result too large to read whole: its header is read from the head of the form body (xqueue-watcher
    posts xqueue_header before xqueue_body), so that the submission counts a failed grading attempt rather
    than being served again for ever. Without a readable header it is a plain 413.
    """
    limit = request_ceiling()
    refused = envelope(False, f"Request body of {size} bytes is over the limit of {limit}", status=413)
    if not request.content_type == "application/x-www-form-urlencoded":
        return refused
    head = request.read(HEADER_PEEK_BYTES).decode("latin-1")
    complete = head.split("&")[:-1]  # the last piece may be cut short
    fields = dict(parse_qsl("&".join(complete), keep_blank_values=True, encoding="utf-8"))
    if "xqueue_header" not in fields:
        return refused
    return _put_result_answer(
        queue_api.put_result(parse_reply(fields, oversized=size), check_queue=lambda name: require_queue(request, name))
    )


@xqueue_view("POST", role=GRADER, oversized=put_result_too_large)
def put_result_view(request: HttpRequest) -> JsonResponse:
    outcome = queue_api.put_result(parse_reply(request.POST), check_queue=lambda name: require_queue(request, name))
    return _put_result_answer(outcome)


def file_view(request: HttpRequest, path: str) -> FileResponse:
    """An uploaded file; its URL holds a random folder name, which is what grants access (like a signed URL)."""
    if request.method != "GET" or ".." in path.split("/"):
        raise Http404("no such file")
    name = f"{queue_api.FILES_PREFIX}/{path}"
    if not default_storage.exists(name):
        raise Http404("no such file")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "attachment"
    return response

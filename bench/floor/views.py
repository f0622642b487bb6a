"""The XQueue grader API at its least: login, get_submission, put_result (and status)."""

import hmac
import json
import secrets
from datetime import timedelta

from django.contrib.auth import authenticate, login
from django.db import connection, transaction
from django.db.models import Q
from django.dispatch import Signal, receiver
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from bench.floor.models import Item, SinkRow

result_accepted = Signal()
PULL_TIMEOUT = timedelta(seconds=300)


@receiver(result_accepted)
def _sink(sender, item, **kwargs):
    SinkRow.objects.create(item=item)


def reply(ok, content):
    return JsonResponse({"return_code": 0 if ok else 1, "content": content})


def _grader(request):
    return request.user.is_authenticated and request.user.groups.filter(name="xqueue").exists()


def status(request):
    return reply(True, "OK")


@csrf_exempt
def login_view(request):
    if request.method == "GET":
        get_token(request)
        return reply(False, "login_required")
    user = authenticate(request, username=request.POST.get("username"), password=request.POST.get("password"))
    if user is None:
        return reply(False, "Incorrect login credentials")
    login(request, user)
    return reply(True, "Logged in")


@transaction.atomic
def get_submission(request):
    if not _grader(request):
        return JsonResponse({"return_code": 1, "content": "login_required"}, status=401)
    queue = request.GET.get("queue_name", "")
    rows = Item.objects.filter(queue_name=queue).filter(
        Q(status="queued") | Q(status="pulled", pulled_at__lt=timezone.now() - PULL_TIMEOUT)).order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    item = rows.first()
    if item is None:
        return reply(False, f"Queue '{queue}' is empty")
    item.status, item.pullkey, item.pulled_at = "pulled", secrets.token_hex(16), timezone.now()
    item.save(update_fields=["status", "pullkey", "pulled_at"])
    header = json.dumps({"submission_id": item.pk, "submission_key": item.pullkey})
    return reply(True, json.dumps({"xqueue_header": header, "xqueue_body": item.body, "xqueue_files": "{}"}))


@csrf_exempt
@transaction.atomic
def put_result(request):
    if not _grader(request):
        return JsonResponse({"return_code": 1, "content": "login_required"}, status=401)
    try:
        header = json.loads(request.POST["xqueue_header"])
        body = request.POST["xqueue_body"]
        item = Item.objects.select_for_update().get(pk=int(header["submission_id"]))
    except (KeyError, ValueError, TypeError, Item.DoesNotExist):
        return reply(False, "Incorrect reply format")
    key = str(header.get("submission_key", ""))
    if item.status != "pulled" or not hmac.compare_digest(key.encode(), item.pullkey.encode()):
        return reply(False, "Incorrect key for submission")
    item.status, item.reply = "graded", body
    item.save(update_fields=["status", "reply"])
    result_accepted.send(sender=Item, item=item)
    return reply(True, "")

"""
``/health/``: can this bridge take and deliver results now?

The shape of the Open edX services' health check: ``{"overall_status": "OK" | "UNAVAILABLE",
"detailed_status": {"<part>_status": "OK" | "UNAVAILABLE"}}`` with HTTP 200 or 503, plus one message per
part that says what failed. Each part is checked on its own, so one failing part never hides another.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import attr
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from xqueue_bridge.cockpit import stats
from xqueue_bridge.conf import get_setting

OK, UNAVAILABLE = "OK", "UNAVAILABLE"


@attr.frozen
class PartStatus:
    part: str
    ok: bool
    message: str


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "answers"


def check_cache() -> str:
    key, value = f"xqueue-bridge-health-{secrets.token_hex(4)}", secrets.token_hex(4)
    cache.set(key, value, 10)
    if cache.get(key) != value:
        raise RuntimeError("a value written to the cache was not read back")
    cache.delete(key)
    return "answers"


def check_event_bus() -> str:
    """The Redis stream the score event is produced to, when the event bus is configured."""
    url = getattr(settings, "EVENT_BUS_REDIS_CONNECTION_URL", "")
    if not url:
        return "not configured (events stay in this process)"
    import redis  # only installed with the services extra, which an event bus needs anyway

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return "answers"


def check_outbox() -> str:
    age = stats.oldest_due_age()
    limit = float(get_setting("HEALTH_MAX_DUE_AGE"))
    if age is not None and age > limit:
        raise RuntimeError(f"the oldest due delivery has waited {age:.0f} s, more than HEALTH_MAX_DUE_AGE {limit:g} s")
    return "nothing due" if age is None else f"oldest due delivery waited {age:.1f} s"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "event_bus": check_event_bus,
    "outbox": check_outbox,
}


def run_checks() -> list[PartStatus]:
    results = []
    database_ok = True
    for part, check in CHECKS.items():
        if part == "outbox" and not database_ok:
            results.append(PartStatus(part, False, "not checked: the database does not answer"))
            continue
        try:
            results.append(PartStatus(part, True, check()))
        except Exception as exc:  # noqa: BLE001 (each part's failure is reported, never raised)
            results.append(PartStatus(part, False, _first_line(exc)))
            if part == "database":
                database_ok = False
                connection.close_if_unusable_or_obsolete()
    return results


def as_document(results: list[PartStatus]) -> dict:
    healthy = all(result.ok for result in results)
    return {
        "overall_status": OK if healthy else UNAVAILABLE,
        "detailed_status": {f"{r.part}_status": OK if r.ok else UNAVAILABLE for r in results},
        "messages": {r.part: r.message for r in results},
    }


@never_cache
def health_view(request: HttpRequest) -> JsonResponse:
    """200 when every part answers, else 503 naming the failing parts (no authentication: no secret in it)."""
    document = as_document(run_checks())
    return JsonResponse(document, status=200 if document["overall_status"] == OK else 503)

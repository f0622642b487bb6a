"""
``/health/`` and ``/metrics`` of ``xqueue-bridge serve`` turn 503 when the database or Redis stops
answering, and 200 again when it is back; the admin's and the dashboard's static files are served.

The database is reached through a loopback TCP proxy the test cuts, Redis is a private redis-server the
test stops: the machine's shared services are never touched. On the SQLite run (a file, nothing to cut)
the served bridge uses a scratch database of the local PostgreSQL server instead.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings
from django.db import connection

from tests.support.processes import BridgeProcess, database_url, free_port
from tests.support.proxy import PrivateRedis, TcpProxy
from tests.support.waiting import wait_for


def _scratch_postgresql() -> str:
    import psycopg

    url = settings.URLS["postgresql"]
    name = "xqb_health_" + hashlib.sha256(str(Path(__file__).resolve()).encode()).hexdigest()[:8]
    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def database_behind_proxy(transactional_db):
    url = _scratch_postgresql() if connection.vendor == "sqlite" else database_url()
    parts = urlsplit(url)
    proxy = TcpProxy(parts.hostname, parts.port)
    netloc = parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{proxy.port}" if "@" in parts.netloc else \
        f"127.0.0.1:{proxy.port}"
    yield proxy, urlunsplit(parts._replace(netloc=netloc))
    proxy.cut()


@pytest.fixture
def private_redis(tmp_path):
    redis = PrivateRedis(free_port(), tmp_path).start()
    yield redis
    redis.stop()


def _get(port: int, path: str) -> requests.Response:
    return requests.get(f"http://127.0.0.1:{port}{path}", timeout=10)


def _status(port: int, path: str) -> int:
    try:
        return _get(port, path).status_code
    except requests.RequestException:
        return 0


def test_health_and_metrics_turn_503_when_the_database_or_redis_stops_answering(
    database_behind_proxy, private_redis, tmp_path
):
    proxy, url = database_behind_proxy
    port = free_port()
    bridge = BridgeProcess(
        [sys.executable, "-m", "xqueue_bridge", "serve", "--port", str(port), "--workers", "1", "--no-drainer"],
        log_path=tmp_path / "serve.log", env={"DATABASE_URL": url, "REDIS_URL": private_redis.url},
    ).start()
    try:
        assert wait_for(lambda: _status(port, "/xqueue/status/") == 200 or not bridge.alive(), timeout=120,
                        poll=0.2), bridge.log()
        assert bridge.alive(), bridge.log()

        health = _get(port, "/health/")
        assert health.status_code == 200, health.text
        assert health.json()["overall_status"] == "OK"
        assert health.json()["detailed_status"] == {
            "database_status": "OK", "cache_status": "OK", "event_bus_status": "OK", "outbox_status": "OK"
        }
        metrics = _get(port, "/metrics")
        assert metrics.status_code == 200
        assert 'xqueue_bridge_queue_length{queue="test-pull",status="queued"} 0.0' in metrics.text
        assert 'xqueue_bridge_health{part="database"} 1.0' in metrics.text
        # The admin is styled under serve: its static files answer without a collect step.
        css = _get(port, "/static/admin/css/base.css")
        assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
        assert _get(port, "/static/cockpit/cockpit.css").status_code == 200

        private_redis.stop()
        health = _get(port, "/health/")
        assert health.status_code == 503
        assert health.json()["detailed_status"]["event_bus_status"] == "UNAVAILABLE"
        assert health.json()["detailed_status"]["database_status"] == "OK"
        assert "Connection refused" in health.json()["messages"]["event_bus"]
        metrics = _get(port, "/metrics")
        assert metrics.status_code == 503
        assert 'xqueue_bridge_health{part="event_bus"} 0.0' in metrics.text

        private_redis.start()
        assert wait_for(lambda: _status(port, "/health/") == 200, timeout=30, poll=0.2)

        proxy.cut()
        health = _get(port, "/health/")
        assert health.status_code == 503
        assert health.json()["detailed_status"]["database_status"] == "UNAVAILABLE"
        assert health.json()["detailed_status"]["event_bus_status"] == "OK"
        assert _get(port, "/metrics").status_code == 503

        proxy.restore()
        assert wait_for(lambda: _status(port, "/health/") == 200, timeout=30, poll=0.2), bridge.log()
        assert _status(port, "/metrics") == 200
    finally:
        bridge.stop()

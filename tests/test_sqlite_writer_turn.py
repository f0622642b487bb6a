"""
The standalone service's SQLite engine: writers wait for their turn in the kernel, not in SQLite's busy handler.

Each test opens its own SQLite file through ``database_from_url`` (whatever database the suite runs on), with
SQLite's busy timeout set to 0: a writer that met SQLite's lock would fail at once with "database is locked",
so a writer that succeeds while another holds a transaction open waited for the turn.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from xqueue_bridge.runtime import sqlite
from xqueue_bridge.runtime.settings import database_from_url

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def handler(tmp_path, django_db_blocker):
    """Connections (one per thread) to a new SQLite file with the engine, SQLite's own wait switched off."""
    config = database_from_url(f"sqlite:///{tmp_path / 'turn.sqlite3'}")
    config["OPTIONS"]["timeout"] = 0
    handlers = ConnectionHandler({"default": config})
    with django_db_blocker.unblock():
        with handlers["default"].cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS seen (id INTEGER PRIMARY KEY AUTOINCREMENT, who TEXT)")
        yield handlers
        handlers.close_all()


def connection(handler):
    return handler["default"]


@contextmanager
def write_transaction(conn):
    """What ``transaction.atomic`` does around its outermost block: BEGIN IMMEDIATE, then COMMIT or ROLLBACK."""
    conn.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    try:
        with conn.cursor() as cursor:
            yield cursor
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.set_autocommit(True)


def holding_a_transaction(name: str, holding: threading.Event, release: threading.Event):
    """Work for a thread: insert ``name`` in a transaction and keep it open until ``release``."""

    def hold(conn):
        with write_transaction(conn) as cursor:
            cursor.execute("INSERT INTO seen (who) VALUES (%s)", [name])
            holding.set()
            release.wait(10)

    return hold


def seen(conn) -> list[str]:
    with conn.cursor() as cursor:
        cursor.execute("SELECT who FROM seen ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def in_thread(handler, work, errors: list, done: threading.Event | None = None) -> threading.Thread:
    def run():
        try:
            work(connection(handler))
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection(handler).close()
            if done is not None:
                done.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_the_engine_of_a_sqlite_url():
    config = database_from_url("sqlite:////tmp/somewhere.sqlite3")
    assert config["ENGINE"] == sqlite.ENGINE
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_a_writer_waits_for_the_turn_of_an_open_transaction_then_writes(handler):
    holding, release = threading.Event(), threading.Event()
    second_done = threading.Event()
    errors: list = []

    def second(conn):
        holding.wait(10)
        with write_transaction(conn) as cursor:
            cursor.execute("INSERT INTO seen (who) VALUES ('second')")

    threads = [in_thread(handler, holding_a_transaction("first", holding, release), errors),
               in_thread(handler, second, errors, second_done)]
    assert holding.wait(10)
    # The second writer is queued behind the open transaction (with a busy timeout of 0, SQLite alone would
    # have refused it with "database is locked" by now).
    assert not second_done.wait(0.3)
    release.set()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert seen(connection(handler)) == ["first", "second"]


def test_single_statements_outside_a_transaction_take_the_turn_too(handler):
    holding, release = threading.Event(), threading.Event()
    errors: list = []

    def autocommit_writer(name):
        def write(conn):
            holding.wait(10)
            with conn.cursor() as cursor:
                cursor.execute("INSERT INTO seen (who) VALUES (%s)", [name])
                cursor.executemany("INSERT INTO seen (who) VALUES (%s)", [[name + "-many"]])
        return write

    threads = [in_thread(handler, holding_a_transaction("holder", holding, release), errors)]
    assert holding.wait(10)
    threads += [in_thread(handler, autocommit_writer(f"w{i}"), errors) for i in range(4)]
    release.set()
    for thread in threads:
        thread.join(10)
    assert errors == []
    names = seen(connection(handler))
    assert names[0] == "holder"
    assert sorted(names[1:]) == sorted([f"w{i}" for i in range(4)] + [f"w{i}-many" for i in range(4)])


def test_many_writers_at_once_all_commit_and_reads_need_no_turn(handler):
    errors: list = []
    reads: list = []

    def writer(name):
        def write(conn):
            for number in range(25):
                with write_transaction(conn) as cursor:
                    cursor.execute("SELECT COUNT(*) FROM seen")
                    cursor.execute("INSERT INTO seen (who) VALUES (%s)", [f"{name}-{number}"])
        return write

    def reader(conn):
        for _ in range(25):
            reads.append(len(seen(conn)))

    threads = [in_thread(handler, writer(f"w{i}"), errors) for i in range(6)]
    threads.append(in_thread(handler, reader, errors))
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(seen(connection(handler))) == 150
    assert len(reads) == 25


def test_a_rolled_back_or_failed_transaction_gives_the_turn_back(handler):
    conn = connection(handler)
    with pytest.raises(RuntimeError), write_transaction(conn) as cursor:
        cursor.execute("INSERT INTO seen (who) VALUES ('undone')")
        assert conn.writer_turn.taken
        raise RuntimeError("the block failed")
    assert not conn.writer_turn.taken
    with pytest.raises(Exception, match="no such table"), conn.cursor() as cursor:
        cursor.execute("INSERT INTO missing (who) VALUES ('x')")
    assert not conn.writer_turn.taken
    with write_transaction(conn) as cursor:
        cursor.execute("INSERT INTO seen (who) VALUES ('kept')")
    assert not conn.writer_turn.taken
    assert seen(conn) == ["kept"]


def test_closing_a_connection_inside_a_transaction_gives_the_turn_back(handler):
    conn = connection(handler)
    conn.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO seen (who) VALUES ('never committed')")
    turn = conn.writer_turn
    assert turn.taken
    conn.close()
    assert not turn.taken
    errors: list = []

    def write_after(other):
        with write_transaction(other) as cursor:
            cursor.execute("INSERT INTO seen (who) VALUES ('after')")

    thread = in_thread(handler, write_after, errors)
    thread.join(10)
    assert errors == []
    assert seen(connection(handler)) == ["after"]


def test_another_process_waits_for_the_turn(handler, tmp_path):
    conn = connection(handler)
    child = (
        "import os, sys, django\n"
        "from django.conf import settings\n"
        "from xqueue_bridge.runtime.settings import database_from_url\n"
        "config = database_from_url(sys.argv[1]); config['OPTIONS']['timeout'] = 0\n"
        "settings.configure(DATABASES={'default': config}, USE_TZ=True)\n"
        "django.setup()\n"
        "from django.db import connection, transaction\n"
        "print('ready', flush=True)\n"
        "with transaction.atomic(), connection.cursor() as cursor:\n"
        "    cursor.execute(\"INSERT INTO seen (who) VALUES ('child')\")\n"
        "print('done', flush=True)\n"
    )
    with write_transaction(conn) as cursor:
        cursor.execute("INSERT INTO seen (who) VALUES ('parent')")
        process = subprocess.Popen(
            [sys.executable, "-c", child, f"sqlite:///{tmp_path / 'turn.sqlite3'}"], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert process.stdout.readline().strip() == "ready"
        # The child now waits for the parent's turn instead of failing on SQLite's lock.
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(0.5)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out.strip() == "done"
    assert seen(conn) == ["parent", "child"]


def test_a_second_connection_of_the_same_thread_does_not_wait_for_itself(handler):
    first = connection(handler)
    second = ConnectionHandler({"default": first.settings_dict})["default"]
    try:
        with write_transaction(first) as cursor:
            cursor.execute("INSERT INTO seen (who) VALUES ('first')")
            # Without the turn for itself it meets SQLite's lock and fails, instead of waiting forever.
            with pytest.raises(OperationalError, match="locked"), write_transaction(second) as other:
                other.execute("INSERT INTO seen (who) VALUES ('second')")
    finally:
        second.close()
    assert seen(first) == ["first"]


def test_a_forked_child_opens_its_own_turn(handler):
    conn = connection(handler)
    with write_transaction(conn) as cursor:
        cursor.execute("INSERT INTO seen (who) VALUES ('parent')")
        turn = conn.writer_turn
        pid = os.fork()
        if pid == 0:  # the child: the inherited descriptor would share the parent's lock
            code = 1
            try:
                turn.taken = False
                fd = turn._descriptor()
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    code = 0  # the parent's turn is seen from the child's own descriptor
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_in_memory_databases_have_no_turn(django_db_blocker):
    handlers = ConnectionHandler({"default": {**database_from_url("sqlite:///:memory:")}})
    with django_db_blocker.unblock():
        conn = handlers["default"]
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert conn.writer_turn is None
        handlers.close_all()


def test_a_turn_that_cannot_be_opened_falls_back_to_sqlite_alone(tmp_path, django_db_blocker, caplog):
    (tmp_path / "db.sqlite3-writer").mkdir()  # the lock file's name is taken by a folder
    handlers = ConnectionHandler({"default": database_from_url(f"sqlite:///{tmp_path / 'db.sqlite3'}")})
    with django_db_blocker.unblock(), caplog.at_level(logging.WARNING):
        conn = handlers["default"]
        with write_transaction(conn) as cursor:
            cursor.execute("CREATE TABLE t (x INTEGER)")
            cursor.execute("INSERT INTO t VALUES (1)")
        with conn.cursor() as cursor:
            cursor.execute("SELECT x FROM t")
            assert cursor.fetchall() == [(1,)]
        handlers.close_all()
    assert "cannot be opened" in caplog.text
    assert "busy handler" in caplog.text

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


def new_handler(path: Path, timeout: float) -> ConnectionHandler:
    config = database_from_url(f"sqlite:///{path}")
    config["OPTIONS"]["timeout"] = timeout
    handlers = ConnectionHandler({"default": config})
    with handlers["default"].cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS seen (id INTEGER PRIMARY KEY AUTOINCREMENT, who TEXT)")
    return handlers


@pytest.fixture
def handler(tmp_path, django_db_blocker):
    """Connections (one per thread) to a new SQLite file with the engine, SQLite's own wait switched off."""
    with django_db_blocker.unblock():
        handlers = new_handler(tmp_path / "turn.sqlite3", timeout=0)
        yield handlers
        handlers.close_all()


def turn_is_free(database: Path) -> bool:
    """Whether the writer turn of ``database`` is free, seen through a descriptor of our own."""
    fd = os.open(f"{database}-writer", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


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
    done = [threading.Event() for _ in range(4)]
    threads += [in_thread(handler, autocommit_writer(f"w{i}"), errors, done[i]) for i in range(4)]
    assert not any(event.wait(0.1) for event in done)  # queued behind the open transaction
    release.set()
    for thread in threads:
        thread.join(10)
    assert errors == []
    names = seen(connection(handler))
    assert names[0] == "holder"
    assert sorted(names[1:]) == sorted([f"w{i}" for i in range(4)] + [f"w{i}-many" for i in range(4)])


def test_many_writers_at_once_all_commit(handler):
    errors: list = []

    def writer(name):
        def write(conn):
            for number in range(25):
                with write_transaction(conn) as cursor:
                    cursor.execute("SELECT COUNT(*) FROM seen")
                    cursor.execute("INSERT INTO seen (who) VALUES (%s)", [f"{name}-{number}"])
        return write

    threads = [in_thread(handler, writer(f"w{i}"), errors) for i in range(6)]
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(seen(connection(handler))) == 150


def test_a_read_goes_on_while_a_transaction_holds_the_turn(handler):
    holding, release = threading.Event(), threading.Event()
    errors: list = []
    holder = in_thread(handler, holding_a_transaction("holder", holding, release), errors)
    try:
        assert holding.wait(10)
        read = []
        reader = in_thread(handler, lambda conn: read.append(seen(conn)), errors)
        reader.join(2)  # the holder keeps its transaction open for up to 10 s
        assert not reader.is_alive()
        assert read == [[]]  # WAL: the reader sees what was committed before the open transaction
    finally:
        release.set()
        holder.join(10)
    assert errors == []


def test_a_rolled_back_or_failed_transaction_gives_the_turn_back(handler):
    conn = connection(handler)
    database = Path(conn.settings_dict["NAME"])
    with pytest.raises(RuntimeError), write_transaction(conn) as cursor:
        cursor.execute("INSERT INTO seen (who) VALUES ('undone')")
        assert conn.writer_turn.taken
        assert not turn_is_free(database)
        raise RuntimeError("the block failed")
    assert not conn.writer_turn.taken
    assert turn_is_free(database)
    with pytest.raises(Exception, match="no such table"), conn.cursor() as cursor:
        cursor.execute("INSERT INTO missing (who) VALUES ('x')")
    assert turn_is_free(database)
    with pytest.raises(Exception, match="no such table"), write_transaction(conn) as cursor:
        cursor.execute("INSERT INTO seen (who) VALUES ('undone too')")
        cursor.execute("INSERT INTO missing (who) VALUES ('x')")
    assert turn_is_free(database)
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


# A process of its own with the engine: ``ready``, then a transaction that writes ``child`` (and, with
# ``hold`` as second argument, says ``holding`` and keeps it open until killed), then ``done``.
CHILD = (
    "import sys, time, django\n"
    "from django.conf import settings\n"
    "from xqueue_bridge.runtime.settings import database_from_url\n"
    "config = database_from_url(sys.argv[1]); config['OPTIONS']['timeout'] = 0\n"
    "settings.configure(DATABASES={'default': config}, USE_TZ=True)\n"
    "django.setup()\n"
    "from django.db import connection, transaction\n"
    "print('ready', flush=True)\n"
    "with transaction.atomic(), connection.cursor() as cursor:\n"
    "    cursor.execute(\"INSERT INTO seen (who) VALUES ('child')\")\n"
    "    if sys.argv[2:] == ['hold']:\n"
    "        print('holding', flush=True)\n"
    "        time.sleep(60)\n"
    "print('done', flush=True)\n"
)


def child_process(database: Path, *arguments: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, f"sqlite:///{database}", *arguments], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_a_process_killed_while_holding_the_turn_gives_it_back(handler, tmp_path):
    database = tmp_path / "turn.sqlite3"
    process = child_process(database, "hold")
    try:
        assert process.stdout.readline().strip() == "ready"
        assert process.stdout.readline().strip() == "holding"
        assert not turn_is_free(database)
    finally:
        process.kill()
        process.communicate(timeout=30)
    assert turn_is_free(database)
    with write_transaction(connection(handler)) as cursor:  # SQLite's busy timeout is 0 here
        cursor.execute("INSERT INTO seen (who) VALUES ('after the kill')")
    assert seen(connection(handler)) == ["after the kill"]  # the killed transaction was rolled back


def test_another_process_waits_for_the_turn(handler, tmp_path):
    conn = connection(handler)
    with write_transaction(conn) as cursor:
        cursor.execute("INSERT INTO seen (who) VALUES ('parent')")
        process = child_process(tmp_path / "turn.sqlite3")
        assert process.stdout.readline().strip() == "ready"
        # The child now waits for the parent's turn instead of failing on SQLite's lock.
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(0.5)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out.strip() == "done"
    assert seen(conn) == ["parent", "child"]


def writes_twice_in_one_thread(handler, second_settings: dict) -> list:
    """
    In one thread, hold a transaction on the handler's connection and write through a second connection
    made from ``second_settings``; returns what each write gave. Run in a thread of its own, so that a
    thread waiting for itself fails the test (a daemon left blocked) instead of hanging the suite.
    """
    outcome: list = []

    def run():
        first = connection(handler)
        second = ConnectionHandler({"default": second_settings})["default"]
        try:
            with write_transaction(first) as cursor:
                cursor.execute("INSERT INTO seen (who) VALUES ('first')")
                try:
                    with write_transaction(second) as other:
                        other.execute("INSERT INTO seen (who) VALUES ('second')")
                    outcome.append("second written")
                except OperationalError as exc:
                    outcome.append(str(exc))
        finally:
            second.close()
            first.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "the thread waits for its own writer turn"
    return outcome


def test_a_second_connection_of_the_same_thread_does_not_wait_for_itself(handler):
    # Without the turn for itself it meets SQLite's lock and fails, instead of waiting forever.
    assert writes_twice_in_one_thread(handler, connection(handler).settings_dict) == ["database is locked"]
    assert seen(connection(handler)) == ["first"]


def test_a_forked_child_neither_shares_nor_gives_back_the_parents_turn(handler):
    conn = connection(handler)
    database = Path(conn.settings_dict["NAME"])
    with write_transaction(conn) as cursor:
        cursor.execute("INSERT INTO seen (who) VALUES ('parent')")
        turn = conn.writer_turn
        pid = os.fork()
        if pid == 0:  # the child, holding the parent's connection objects
            code = 1
            try:
                from xqueue_bridge.runtime.sqlite import base as engine

                if not turn.taken and engine._held_files() == {} and turn_is_free(database) is False:
                    turn.close()  # must not unlock the parent's lock
                    code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert not turn_is_free(database)  # still the parent's
    assert turn_is_free(database)


def test_transactions_ended_other_ways_give_the_turn_back(handler):
    conn = connection(handler)
    database = Path(conn.settings_dict["NAME"])
    # Autocommit off outside any atomic block, a write, autocommit on again (which commits silently).
    conn.set_autocommit(False)
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO seen (who) VALUES ('autocommit off')")
    assert not turn_is_free(database)
    conn.set_autocommit(True)
    assert turn_is_free(database)
    # BEGIN and COMMIT written out, a savepoint outside a transaction, and a script.
    with conn.cursor() as cursor:
        cursor.execute("BEGIN")
        assert not turn_is_free(database)
        cursor.execute("INSERT INTO seen (who) VALUES ('raw')")
        cursor.execute("COMMIT")
        assert turn_is_free(database)
        cursor.execute("SAVEPOINT outside")
        cursor.execute("INSERT INTO seen (who) VALUES ('savepoint')")
        assert not turn_is_free(database)
        cursor.execute("RELEASE outside")
        assert turn_is_free(database)
        cursor.executescript("BEGIN; INSERT INTO seen (who) VALUES ('script'); COMMIT;")
        assert turn_is_free(database)
    assert seen(conn) == ["autocommit off", "raw", "savepoint", "script"]


def sqlite_lock_is_free(database: Path) -> bool:
    """Whether SQLite's own write lock is free, tried by a plain connection that does not wait."""
    import sqlite3

    outsider = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        outsider.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return False
    else:
        outsider.execute("ROLLBACK")
        return True
    finally:
        outsider.close()


def test_the_rows_of_a_write_are_read_before_the_turn_is_given_back(handler):
    conn = connection(handler)
    database = Path(conn.settings_dict["NAME"])
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO seen (who) VALUES ('a'), ('b'), ('c') RETURNING who")
        # The statement is finished: neither the turn nor SQLite's lock is held while the rows wait.
        assert turn_is_free(database) and sqlite_lock_is_free(database)
        assert cursor.fetchone() == ("a",)
        assert cursor.fetchmany(1) == [("b",)]
        assert list(cursor) == [("c",)]
        assert cursor.fetchone() is None
        cursor.execute("INSERT INTO seen (who) VALUES ('d') RETURNING id")
        assert cursor.fetchall() == [(4,)]
        assert cursor.fetchall() == []
    # A cursor dropped with its rows unread, and a read the engine takes for a write (a CTE), hold nothing.
    cursor = conn.cursor()
    cursor.execute("INSERT INTO seen (who) VALUES ('unread') RETURNING id")
    del cursor
    cursor = conn.cursor()
    cursor.execute("WITH named AS (SELECT who FROM seen) SELECT COUNT(*) FROM named")
    assert turn_is_free(database) and sqlite_lock_is_free(database)
    assert cursor.fetchone() == (5,)
    assert seen(conn) == ["a", "b", "c", "d", "unread"]


def test_a_turn_collected_while_taken_does_not_stay_held_by_its_thread(tmp_path, django_db_blocker):
    from xqueue_bridge.runtime.sqlite.base import WriterTurn

    database = tmp_path / "collected.sqlite3"
    first = WriterTurn(str(database), timeout=0)
    first.take()
    assert first.taken and not turn_is_free(database)
    del first  # its descriptor is closed, which gives the lock back
    assert turn_is_free(database)
    second = WriterTurn(str(database), timeout=0)
    second.take()  # the thread does not think it holds the turn still
    try:
        assert second.taken and not turn_is_free(database)
    finally:
        second.close()


def test_a_writer_queued_behind_a_held_up_turn_fails_after_the_timeout(tmp_path, django_db_blocker):
    """A writer outside the turn holds SQLite's lock: the first turn holder waits out SQLite's busy timeout
    (3 s), and writers (timeout 0.2 s) queued behind it all that while, a transaction and a single statement,
    fail as soon as they get the turn instead of waiting out their own busy timeout as well."""
    import sqlite3

    database = tmp_path / "held-up.sqlite3"
    with django_db_blocker.unblock():
        patient = new_handler(database, timeout=3)
        handlers = new_handler(database, timeout=0.2)
        outsider = sqlite3.connect(database, isolation_level=None)
        outsider.execute("BEGIN IMMEDIATE")  # a shell holding the write lock, knowing nothing of the turn
        try:
            errors: list = []

            def write(name):
                def run(conn):
                    with write_transaction(conn) as cursor:
                        cursor.execute("INSERT INTO seen (who) VALUES (%s)", [name])
                return run

            def write_alone(conn):
                with conn.cursor() as cursor:
                    cursor.execute("INSERT INTO seen (who) VALUES ('alone')")

            first = in_thread(patient, write("first"), errors)
            for _ in range(500):  # until the first holds the turn (at most 5 s)
                if not turn_is_free(database):
                    break
                threading.Event().wait(0.01)
            assert not turn_is_free(database)
            queued = [in_thread(handlers, write("second"), errors), in_thread(handlers, write_alone, errors)]
            for thread in [first, *queued]:
                thread.join(20)
        finally:
            outsider.execute("ROLLBACK")
            outsider.close()
        messages = sorted(str(error) for error in errors)
        assert len(messages) == 3
        assert messages[0] == "database is locked"  # SQLite's own busy timeout, for the first
        for message in messages[1:]:  # the queued ones, at once
            assert message.startswith("database is locked: waited ")
            assert message.endswith("for the writer turn (timeout 0.2 s)")
        assert turn_is_free(database)
        with write_transaction(handlers["default"]) as cursor:
            cursor.execute("INSERT INTO seen (who) VALUES ('after')")
        assert seen(handlers["default"]) == ["after"]
        handlers.close_all()
        patient.close_all()


def test_another_spelling_of_the_same_file_does_not_wait_for_itself(handler, tmp_path):
    config = database_from_url(f"sqlite:///{tmp_path / '..' / tmp_path.name / 'turn.sqlite3'}")
    config["OPTIONS"]["timeout"] = 0
    assert writes_twice_in_one_thread(handler, config) == ["database is locked"]
    assert seen(connection(handler)) == ["first"]


def test_in_memory_databases_have_no_turn(django_db_blocker):
    handlers = ConnectionHandler({"default": {**database_from_url("sqlite:///:memory:")}})
    with django_db_blocker.unblock():
        conn = handlers["default"]
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert conn.writer_turn is None
        handlers.close_all()


def writes_without_a_turn(database: Path, django_db_blocker, caplog) -> None:
    """A transaction and a single statement both write on ``database`` whose turn cannot be had."""
    handlers = ConnectionHandler({"default": database_from_url(f"sqlite:///{database}")})
    with django_db_blocker.unblock(), caplog.at_level(logging.WARNING):
        conn = handlers["default"]
        with write_transaction(conn) as cursor:
            cursor.execute("CREATE TABLE t (x INTEGER)")
            cursor.execute("INSERT INTO t VALUES (1)")
        with conn.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (2)")
            cursor.execute("SELECT x FROM t ORDER BY x")
            assert cursor.fetchall() == [(1,), (2,)]
        assert not conn.writer_turn.taken
        handlers.close_all()
    assert "busy handler" in caplog.text


def test_a_turn_that_cannot_be_opened_falls_back_to_sqlite_alone(tmp_path, django_db_blocker, caplog):
    (tmp_path / "db.sqlite3-writer").mkdir()  # the lock file's name is taken by a folder
    writes_without_a_turn(tmp_path / "db.sqlite3", django_db_blocker, caplog)
    assert "cannot be opened" in caplog.text


def test_a_file_system_without_locks_falls_back_to_sqlite_alone(tmp_path, django_db_blocker, caplog, monkeypatch):
    import errno

    from xqueue_bridge.runtime.sqlite import base as engine

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(engine.fcntl, "flock", no_locks)
    writes_without_a_turn(tmp_path / "db.sqlite3", django_db_blocker, caplog)
    assert "cannot be locked" in caplog.text
    assert "No locks available" in caplog.text

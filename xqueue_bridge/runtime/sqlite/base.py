"""
SQLite with a writers' queue: Django's SQLite backend, plus a turn that writers wait for in the kernel.

SQLite lets one connection write at a time. A writer that finds the write lock taken waits in SQLite's busy
handler, which cannot be told when the lock is free: it sleeps in growing steps (1, 2, 5, ... up to 100 ms)
and looks again. With several threads and processes writing, a writer often sleeps long after the lock was
released, and a request that lost a few rounds waits a hundred milliseconds or more for a lock held for
one.

Here each write transaction first takes the database's *writer turn*: an exclusive ``flock`` on a file beside
the database (``<database>-writer``), held from ``BEGIN IMMEDIATE`` to its ``COMMIT`` or ``ROLLBACK`` (a single
write statement outside a transaction holds it for that statement). The kernel wakes a waiter the moment the
turn is given back, across threads and processes alike, and a process that dies gives its turn back with its
file descriptors. Writers that do not take the turn (a ``sqlite3`` shell, another program) are still kept
apart by SQLite's own lock and busy timeout, as before. Like a row lock in PostgreSQL, the wait has no limit
of its own (``docs/decisions/0014``).

The turn is skipped for an in-memory database, for a database whose lock file cannot be opened (it falls back
to the busy handler alone, with a warning), and for a thread that already holds the turn of the same database
through another connection (it would wait for itself).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading

from django.db.backends.sqlite3 import base

logger = logging.getLogger(__name__)

# The databases whose turn the current thread holds, by lock file path.
_held = threading.local()

# Statements that never write, run outside a transaction without a turn.
_READING = ("SELECT", "PRAGMA", "BEGIN", "EXPLAIN")


def _held_paths() -> set[str]:
    paths = getattr(_held, "paths", None)
    if paths is None:
        paths = _held.paths = set()
    return paths


class WriterTurn:
    """One connection's hold on the writer turn of one database file."""

    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None
        self._pid = 0
        self.taken = False

    def _descriptor(self) -> int | None:
        # After a fork the inherited descriptor shares its lock with the parent's: open a new one.
        if self._fd is None or self._pid != os.getpid():
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                logger.warning("SQLite writer turn %s cannot be opened (%s): writers wait in SQLite's busy "
                               "handler instead", self.path, exc)
                self.path = ""
                return None
            self._pid = os.getpid()
        return self._fd

    def take(self) -> None:
        if self.taken or not self.path:
            return
        held = _held_paths()
        if self.path in held:
            return
        fd = self._descriptor()
        if fd is None:
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.taken = True
        held.add(self.path)

    def give_back(self) -> None:
        if not self.taken:
            return
        self.taken = False
        _held_paths().discard(self.path)
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.give_back()
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


class TurnCursor(base.SQLiteCursorWrapper):
    """A cursor whose write statements outside a transaction hold the writer turn while they run."""

    turn: WriterTurn | None = None

    def _alone(self, query: str) -> bool:
        """Whether ``query`` runs without the turn: a read, or inside a transaction (which holds it already)."""
        return self.turn is None or self.connection.in_transaction or query.lstrip()[:7].upper().startswith(_READING)

    def _with_turn(self, run, query, arguments):
        if self._alone(query):
            return run(query, arguments)
        self.turn.take()
        try:
            return run(query, arguments)
        finally:
            if not self.connection.in_transaction:
                self.turn.give_back()

    def execute(self, query, params=None):
        return self._with_turn(super().execute, query, params)

    def executemany(self, query, param_list):
        return self._with_turn(super().executemany, query, param_list)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.writer_turn: WriterTurn | None = None
        self._cursor_class = TurnCursor

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if self.writer_turn is None and not self.is_in_memory_db():
            self.writer_turn = WriterTurn(f"{self.settings_dict['NAME']}-writer")
            self._cursor_class = type("TurnCursor", (TurnCursor,), {"turn": self.writer_turn})
        return connection

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=self._cursor_class)

    def _start_transaction_under_autocommit(self):
        if self.writer_turn is not None:
            self.writer_turn.take()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._give_back_when_done()
            raise

    def _give_back_when_done(self) -> None:
        """Give the turn back once no transaction is open (a failed COMMIT leaves it open until the rollback)."""
        if self.writer_turn is not None and not (self.connection is not None and self.connection.in_transaction):
            self.writer_turn.give_back()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._give_back_when_done()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._give_back_when_done()

    def _close(self):
        try:
            return super()._close()
        finally:
            if self.writer_turn is not None:
                self.writer_turn.close()
                self.writer_turn = None
                self._cursor_class = TurnCursor

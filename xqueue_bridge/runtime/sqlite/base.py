"""
SQLite with a writers' queue: Django's SQLite backend, plus a turn that writers wait for in the kernel.

SQLite lets one connection write at a time. A writer that finds the write lock taken waits in SQLite's busy
handler, which cannot be told when the lock is free: it sleeps in growing steps (1, 2, 5, ... up to 100 ms)
and looks again. With several threads and processes writing, a writer often sleeps long after the lock was
released, and a request that lost a few rounds waits a hundred milliseconds or more for a lock held for
one.

Here each write transaction first takes the database's *writer turn*: an exclusive ``flock`` on a file beside
the database (``<database>-writer``), held from ``BEGIN IMMEDIATE`` until no transaction is open any more
(``COMMIT``, ``ROLLBACK``, autocommit switched back on, the connection closed); a write statement outside a
transaction holds it while it runs (one that returns rows, ``INSERT ... RETURNING``, has them read at once
into the cursor, which finishes the statement, before the turn is given back). The kernel wakes a waiter the
moment the turn is given back, across threads and processes alike, and a process that dies gives its turn
back with its file descriptors. Writers that do not take the turn (a ``sqlite3`` shell, another program) are
still kept apart by SQLite's own lock and busy timeout.

A blocked ``flock`` cannot be given a time limit, so the wait for the turn has none of its own, like a row
lock in PostgreSQL by default. What the database's ``timeout`` still bounds: a writer that got the turn after
waiting that long (its predecessor was held up, e.g. by a writer outside the turn holding SQLite's lock) fails
at once with "database is locked" instead of waiting out SQLite's busy timeout as well, so a queue of writers
behind a stuck lock fails together rather than one timeout after another (``docs/decisions/0014``).

The turn is skipped for an in-memory database, when the lock file cannot be opened or locked (it falls back
to the busy handler alone, with one warning), and for a thread that already holds the turn of the same file
through another connection (it would wait for itself). The lock file is made with the database file's
permissions and owner, as SQLite makes its ``-wal`` and ``-shm``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import stat
import threading
import time
import weakref

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

logger = logging.getLogger(__name__)

# Per thread: the lock files (device, inode) whose turn the thread holds, each with the turn holding it.
_held = threading.local()
# Every turn of this process, so that a forked child can drop the descriptors it inherited; the lock keeps a
# fork from happening between opening a descriptor and recording it.
_turns: weakref.WeakSet = weakref.WeakSet()
_descriptors_lock = threading.Lock()
# Lock files already warned about (once per process and file, not once per connection).
_warned: set[str] = set()

# Statements that never write, run outside a transaction without a turn.
_READING = ("SELECT", "PRAGMA", "EXPLAIN")


def _held_files() -> dict:
    files = getattr(_held, "files", None)
    if files is None:
        files = _held.files = {}
    return files


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _after_fork_in_child() -> None:
    # An inherited descriptor shares its lock with the parent: unlocking it would give back the parent's
    # turn, and keeping it open would keep that lock alive after the parent has gone. Drop them all.
    _held.files = {}
    for turn in list(_turns):
        turn.forget()
    _descriptors_lock.release()


os.register_at_fork(before=_descriptors_lock.acquire, after_in_parent=_descriptors_lock.release,
                    after_in_child=_after_fork_in_child)


def _create_like(database: str, path: str) -> int:
    """Open the lock file, made with the database file's permissions and owner, as SQLite makes ``-wal``."""
    try:
        info = os.stat(database)
    except OSError:
        info = None
    mode = stat.S_IMODE(info.st_mode) & 0o666 if info else 0o600
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
    if info is not None and os.geteuid() == 0:
        try:
            os.fchown(fd, info.st_uid, info.st_gid)
        except OSError:
            pass
    return fd


class WriterTurn:
    """One connection's hold on the writer turn of one database file."""

    def __init__(self, database: str, timeout: float):
        self.database = database
        self.path = f"{database}-writer"
        self.timeout = timeout
        self.taken = False
        self.waited = 0.0  # seconds the last take() waited for the turn
        self._fd: int | None = None
        self._file: tuple[int, int] | None = None
        self._held_in: dict | None = None
        self._closer = None
        _turns.add(self)

    def _give_up(self, what: str, exc: OSError) -> None:
        if self.path not in _warned:
            _warned.add(self.path)
            logger.warning("SQLite writer turn %s cannot be %s (%s): writers wait in SQLite's busy handler "
                           "instead", self.path, what, exc)
        self.path = ""
        self.forget()

    def _descriptor(self) -> int | None:
        if self._fd is not None:
            return self._fd
        with _descriptors_lock:
            try:
                fd = _create_like(self.database, self.path)
            except PermissionError:
                try:  # a lock file made by another account: a read-only descriptor can hold the lock too
                    fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
                except OSError as exc:
                    self._give_up("opened", exc)
                    return None
            except OSError as exc:
                self._give_up("opened", exc)
                return None
            try:
                info = os.fstat(fd)
            except OSError as exc:
                os.close(fd)
                self._give_up("opened", exc)
                return None
            self._fd, self._file = fd, (info.st_dev, info.st_ino)
            self._closer = weakref.finalize(self, _close_quietly, fd)
        return fd

    def _held_here(self) -> bool:
        """Whether this thread holds the same file's turn through another connection (still holding it)."""
        holder = _held_files().get(self._file)
        turn = holder() if holder is not None else None
        return turn is not None and turn is not self and turn.taken

    def take(self) -> None:
        self.waited = 0.0
        if self.taken or not self.path:
            return
        fd = self._descriptor()
        if fd is None or self._held_here():
            return
        started = time.monotonic()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:  # a file system without locks (some network or FUSE mounts)
            self._give_up("locked", exc)
            return
        self.waited = time.monotonic() - started
        self.taken = True
        self._held_in = _held_files()
        self._held_in[self._file] = weakref.ref(self)

    def refuse_if_late(self) -> None:
        """
        Give the turn back and fail as SQLite's busy timeout would, if getting it took ``timeout`` or more:
        whoever held it was itself held up that long (by a writer outside the turn), and waiting out the busy
        timeout again behind the same lock would make each writer of a queue wait one timeout longer.
        """
        if self.taken and self.waited >= self.timeout > 0:
            self.give_back()
            raise OperationalError(
                f"database is locked: waited {self.waited:.1f} s for the writer turn (timeout {self.timeout:g} s)"
            )

    def _unmark(self) -> None:
        if self._held_in is not None:
            holder = self._held_in.get(self._file)
            if holder is not None and holder() is self:
                del self._held_in[self._file]
            self._held_in = None

    def give_back(self) -> None:
        if not self.taken:
            return
        self.taken = False
        self._unmark()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        except OSError as exc:  # closing the descriptor gives the lock back in any case
            self._give_up("unlocked", exc)

    def forget(self) -> None:
        """Drop the descriptor without unlocking it (a forked child's inherited one; or after a failure)."""
        self.taken = False
        self._unmark()
        if self._closer is not None:
            self._closer()  # closes the descriptor, once
        self._fd, self._file, self._closer = None, None, None

    def close(self) -> None:
        self.give_back()
        self.forget()


class TurnCursor(base.SQLiteCursorWrapper):
    """
    A cursor whose write statements outside a transaction hold the writer turn while they run. The rows of
    such a statement (``INSERT ... RETURNING``) are read at once, which finishes it and releases SQLite's
    lock, and then served from the cursor.
    """

    turn: WriterTurn | None = None
    _rows: list | None = None

    def _alone(self, query: str) -> bool:
        """Whether ``query`` runs without taking the turn: a read, or inside a transaction (which holds it)."""
        return self.connection.in_transaction or query.lstrip()[:7].upper().startswith(_READING)

    def _settle(self) -> None:
        """Give the turn back once no transaction is open."""
        if self.turn.taken and not self.connection.in_transaction:
            self.turn.give_back()

    def _with_turn(self, run, query, arguments):
        self._rows = None
        if self.turn is None:
            return run(query, arguments)
        took = not self._alone(query)
        if took:
            self.turn.take()
            self.turn.refuse_if_late()
        try:
            result = run(query, arguments)
            if took and not self.connection.in_transaction and self.description is not None:
                self._rows = super().fetchall()  # finishes the statement: SQLite lets go of its lock
        finally:
            self._settle()
        return result

    def execute(self, query, params=None):
        return self._with_turn(super().execute, query, params)

    def executemany(self, query, param_list):
        return self._with_turn(super().executemany, query, param_list)

    def executescript(self, sql_script):
        # A script commits what is open and may write: it runs with the turn, given back after it.
        self._rows = None
        if self.turn is None:
            return super().executescript(sql_script)
        self.turn.take()
        try:
            return super().executescript(sql_script)
        finally:
            self._settle()

    def fetchone(self):
        if self._rows is None:
            return super().fetchone()
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size=None):
        if self._rows is None:
            return super().fetchmany(self.arraysize if size is None else size)
        size = self.arraysize if size is None else size
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    def fetchall(self):
        if self._rows is None:
            return super().fetchall()
        rows, self._rows = self._rows, []
        return rows

    def __next__(self):
        if self._rows is None:
            return super().__next__()
        if not self._rows:
            raise StopIteration
        return self._rows.pop(0)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.writer_turn: WriterTurn | None = None
        self._cursor_class = TurnCursor

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if self.writer_turn is None and not self.is_in_memory_db():
            self.writer_turn = WriterTurn(str(self.settings_dict["NAME"]), float(conn_params.get("timeout", 5.0)))
            self._cursor_class = type("TurnCursor", (TurnCursor,), {"turn": self.writer_turn})
        return connection

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=self._cursor_class)

    def _start_transaction_under_autocommit(self):
        turn = self.writer_turn
        if turn is not None:
            turn.take()
            turn.refuse_if_late()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._give_back_when_done()
            raise

    def _give_back_when_done(self) -> None:
        """Give the turn back once no transaction is open (a failed COMMIT leaves it open until the rollback)."""
        turn = self.writer_turn
        if turn is not None and not (self.connection is not None and self.connection.in_transaction):
            turn.give_back()

    def _set_autocommit(self, autocommit):
        try:
            super()._set_autocommit(autocommit)
        finally:
            # Switching autocommit back on commits what was open (Python's sqlite3 does it silently).
            self._give_back_when_done()

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

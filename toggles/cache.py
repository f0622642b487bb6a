"""
The per-process cache of course flags: one snapshot per flag, so a warm decision runs no query.

How long a change takes to reach a process:

* the process that writes a change checks the database again as soon as the transaction commits
  (``transaction.on_commit``), so its next decision sees the change;
* every other process checks the database's stamp (four small queries) at most every
  ``TOGGLES["CACHE_TTL"]`` seconds (default 5): a committed change is in effect everywhere within
  ``CACHE_TTL`` seconds plus the time to read it (only the rows added since the last check are read).

The stamp lives in the database, not in Django's cache, so the bound holds with any cache backend
(the default LocMemCache is private to each process).

Inside the transaction that writes a change, decisions of that transaction read the database into
snapshots of their own (they see their uncommitted write; no other thread does). If the transaction
rolls back, the next decision notices (its ``on_commit`` callback is gone) and drops them, so a
rolled-back change is never served; this also keeps tests that roll back their transaction apart.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from toggles.conf import get_setting
from toggles.registry import course_flag_names
from toggles.snapshot import FlagSnapshot, Stamp

# The clock of the TTL; tests replace it to move time on without sleeping.
clock = time.monotonic


class Loader(Protocol):
    """What the store reads the database with: ``toggles.loading``, handed over by ``TogglesConfig.ready``."""

    def database(self) -> str: ...

    def read_stamp(self, flag_names: set[str]) -> Stamp: ...

    def read_everyone(self, flag_name: str) -> bool: ...

    def load_snapshot(self, flag_name: str, everyone: bool) -> FlagSnapshot: ...

    def update_snapshots(self, snapshots: dict[str, FlagSnapshot], old: Stamp, new: Stamp) -> dict | None: ...


class SnapshotStore:
    """Snapshots of every course flag in this process, and when they must be checked again."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._snapshots: dict = {}
        self._stamp = None
        self._valid_until = float("-inf")
        # Writes made in this process whose transaction is still open: [(connection, on_commit callback)].
        self._pending: list = []
        # Snapshots read inside such a transaction, seen by that transaction only: {connection: {flag: ...}}.
        self._private: dict = {}
        # Forced decisions of ``toggles.testutils.override_course_flag``: {(flag, scope, key): decision}.
        self.forced: dict = {}
        # Set once Django's app registry is ready (the history models can be imported only then), so that
        # course flags can be defined, and this module imported, before it is.
        self.loader: Loader | None = None

    def get(self, flag_name: str):
        """Return the snapshot of ``flag_name``; the hot path reads two attributes and the clock."""
        snapshot = self._snapshots.get(flag_name)
        if snapshot is not None and not self._pending and clock() < self._valid_until:
            return snapshot
        return self._refresh(flag_name)

    def _refresh(self, flag_name: str):
        loader = self.loader
        if loader is None:
            raise ImproperlyConfigured(
                "Course flags are read once Django is set up with 'toggles' in INSTALLED_APPS; "
                "add it there, and evaluate flags after django.setup()."
            )
        with self._lock:
            if self._pending:
                self._settle()
                current = transaction.get_connection(loader.database())
                if any(connection is current for connection, _ in self._pending):
                    # This transaction wrote a change: it reads it, no other thread does.
                    private = self._private.setdefault(current, {})
                    if flag_name not in private:
                        private[flag_name] = loader.load_snapshot(flag_name, everyone=loader.read_everyone(flag_name))
                    return private[flag_name]
            now = clock()
            stamp = self._stamp
            if now >= self._valid_until or stamp is None or flag_name not in stamp.names:
                stamp = loader.read_stamp(course_flag_names() | {flag_name})
                if stamp != self._stamp:
                    updated = None
                    if self._stamp is not None and self._snapshots:
                        updated = loader.update_snapshots(self._snapshots, self._stamp, stamp)
                    self._snapshots = updated if updated is not None else {}
                    self._stamp = stamp
                self._valid_until = now + float(get_setting("CACHE_TTL"))
            snapshot = self._snapshots.get(flag_name)
            if snapshot is None:
                snapshot = loader.load_snapshot(flag_name, everyone=stamp.everyone(flag_name))
                self._snapshots = {**self._snapshots, flag_name: snapshot}
            return snapshot

    def expire(self) -> None:
        """Check the database on the next decision (reading only what changed)."""
        self._valid_until = float("-inf")

    def clear(self) -> None:
        """Drop every snapshot: the next decision of each flag loads it again."""
        with self._lock:
            self._snapshots = {}
            self._stamp = None
            self._valid_until = float("-inf")

    def written(self, connection, callback) -> None:
        """A write is made in an open transaction of ``connection``; ``callback`` runs when it commits."""
        with self._lock:
            self._pending = [*self._pending, (connection, callback)]
            self._private.pop(connection, None)

    def committed(self, callback) -> None:
        with self._lock:
            self._forget([entry for entry in self._pending if entry[1] is not callback])
            self.expire()

    def _settle(self) -> None:
        """Forget writes whose transaction rolled back (their callback left the on_commit queue)."""
        alive = [
            (connection, callback)
            for connection, callback in self._pending
            if any(queued[1] is callback for queued in connection.run_on_commit)
        ]
        if len(alive) != len(self._pending):
            self._private = {}  # a savepoint rolled back: what was read since may hold the undone write
            self._forget(alive)
            self.expire()

    def _forget(self, pending: list) -> None:
        """Keep only ``pending`` writes, and the private snapshots of the transactions that still have one."""
        self._pending = pending
        open_connections = [connection for connection, _ in pending]
        self._private = {
            connection: snapshots
            for connection, snapshots in self._private.items()
            if any(connection is other for other in open_connections)
        }


store = SnapshotStore()


def record_write(using: str | None = None) -> None:
    """Call after writing anything a course flag reads: in effect here and everywhere once committed."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        store.expire()  # autocommit: the write is already committed
        return

    def on_commit() -> None:
        store.committed(on_commit)

    store.written(connection, on_commit)
    transaction.on_commit(on_commit, using=using)


def clear() -> None:
    """Drop every snapshot of this process (the next decisions load them again)."""
    store.clear()


"""
The per-process cache of course flags: one snapshot per flag, so a warm decision runs no query.

How long a change takes to reach a process:

* the process that writes a change drops its snapshots at once and again when the transaction commits
  (``transaction.on_commit``), so its next decision sees the change;
* every other process checks the database's stamp (four small queries) at most every
  ``TOGGLES["CACHE_TTL"]`` seconds (default 5) and reloads what changed: a committed change is in
  effect everywhere within ``CACHE_TTL`` seconds plus one reload.

The stamp lives in the database, not in Django's cache, so the bound holds with any cache backend
(the default LocMemCache is private to each process). Until a write made in this process is known to be
committed or rolled back, the stamp is checked on every decision, so a rolled-back write is never
served from the snapshot (this also keeps tests that roll back their transaction apart).
"""

from __future__ import annotations

import threading
import time

from django.db import router, transaction

from toggles.conf import get_setting

# The clock of the TTL; tests replace it to move time on without sleeping.
clock = time.monotonic


class SnapshotStore:
    """Snapshots of every course flag in this process, and when they must be checked again."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._snapshots: dict = {}
        self._stamp = None
        self._valid_until = float("-inf")
        # A write of this process whose transaction has not been seen to end.
        self._unsettled = False
        # Forced decisions of ``toggles.testutils.override_course_flag``: {(flag, scope, key): decision}.
        self.forced: dict = {}

    def get(self, flag_name: str):
        """Return the snapshot of ``flag_name``; the hot path reads two attributes and the clock."""
        snapshot = self._snapshots.get(flag_name)
        if snapshot is not None and not self._unsettled and clock() < self._valid_until:
            return snapshot
        return self._refresh(flag_name)

    def _refresh(self, flag_name: str):
        from toggles.flags import course_flag_names
        from toggles.snapshot import load_snapshot, read_stamp

        with self._lock:
            now = clock()
            stamp = self._stamp
            if self._unsettled or now >= self._valid_until or stamp is None or flag_name not in stamp.names:
                settled = not _in_transaction()
                stamp = read_stamp(course_flag_names() | {flag_name})
                if stamp != self._stamp:
                    self._snapshots = {}
                    self._stamp = stamp
                self._valid_until = now + float(get_setting("CACHE_TTL"))
                if settled:
                    self._unsettled = False
            snapshot = self._snapshots.get(flag_name)
            if snapshot is None:
                snapshot = load_snapshot(flag_name, everyone=stamp.everyone(flag_name))
                self._snapshots = {**self._snapshots, flag_name: snapshot}
            return snapshot

    def invalidate(self) -> None:
        """Drop every snapshot: the next decision of each flag reloads it."""
        with self._lock:
            self._snapshots = {}
            self._stamp = None
            self._valid_until = float("-inf")

    def written(self) -> None:
        """A write is made in this process: drop the snapshots until its transaction ends."""
        with self._lock:
            self._unsettled = True
            self.invalidate()

    def committed(self) -> None:
        with self._lock:
            self._unsettled = False
            self.invalidate()


store = SnapshotStore()


def record_write(using: str | None = None) -> None:
    """Call after writing anything a course flag reads: effective now here, everywhere after commit."""
    store.written()
    transaction.on_commit(store.committed, using=using)


def clear() -> None:
    """Drop every snapshot of this process (the next decisions reload them)."""
    store.invalidate()


def _in_transaction() -> bool:
    from toggles.models import CourseOverride

    return transaction.get_connection(router.db_for_write(CourseOverride)).in_atomic_block

"""
Signals of the ``toggles`` app: its history tables announce writes, and the per-process cache listens.

The models know nothing of the cache; ``TogglesConfig.ready`` connects the receiver (``toggles.receivers``).
"""

from django.dispatch import Signal

# Sent after history rows are added (``save`` or ``bulk_create``), with ``sender`` (the model) and ``using``
# (the database alias): the change is in effect in this process once its transaction commits.
history_written = Signal()

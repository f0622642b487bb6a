"""
Django signals the bridge sends at the points other parts (shadow comparison, metrics) hook into.

``reply_accepted``, ``reply_refused`` and ``reply_duplicated`` are sent inside the put_result
transaction, so a receiver's writes commit or roll back with the reply; ``delivery_enqueued`` is sent
once a delivery's row is committed (the runner starts it); ``delivery_finished`` is sent after a delivery
attempt has been recorded, outside any transaction.
"""

from django.dispatch import Signal

# sender=Submission; kwargs: submission: a submission accepted by the intake (committed)
submission_received = Signal()
# sender=Submission; kwargs: submission, delivery
reply_accepted = Signal()
# sender=Submission; kwargs: submission, reply (str), reason (str)
reply_refused = Signal()
# sender=Submission; kwargs: submission, reply (str): the accepted reply sent again (answered as a success)
reply_duplicated = Signal()
# sender=Delivery; kwargs: delivery_id (int): a delivery committed as pending, to start now; lease_token
# (str or None): the lease the row was written with (DELIVERY_MODE "thread", "sync"), to attempt it under
delivery_enqueued = Signal()
# sender=Delivery; kwargs: delivery, result (DeliveryResult), final (bool: delivered or dead)
delivery_finished = Signal()

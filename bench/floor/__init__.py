"""
The floor: a minimal plain-Django XQueue server doing the least a correct one must.

One transaction per request, database sessions, a login for accounts in the ``xqueue`` group, a random
pullkey per pull checked in constant time, and per accepted result one sink row written by the receiver
of one signal (the stand-in for a receiving end), in the put_result transaction. No outbox, no stages,
no shadow: what the bridge is measured against (``bench/scale.py``).
"""

"""
The shared renderer (pure): capa's score_update rules, the feedback a learner sees, and the one
translation of each receiving end's input into a ``ScoreUpdate``.

``xqueue_bridge.render.CapaRenderer`` is the dotted path to name in the RENDERER setting beside a real LMS.
"""

from xqueue_bridge.render.capa import CapaRenderer

__all__ = ["CapaRenderer"]

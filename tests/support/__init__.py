"""
The suite's helpers; tests import them from here, never from a ``conftest.py`` (which holds fixtures).

``accounts``   the LMS and grader accounts
``lms``        what a learner's problem sends (``callback_url``, ``submission_for``) and ``FakeLms``
``grading``    answers graded through the Python API (``Queue``) or over HTTP (``Grading``, ``run_loop``)
``config``     ``bridge_settings`` overrides and a quick retry policy
``events``     receivers of the score event (``receiving_end``, ``ScoreReceiver``)
``rows``       submissions and comparisons written directly
``sink``       one learner's problem in the standalone sink (renderer and sink tests)
``corpus``     the bad-input corpus
``toggles``    the course flag tests' own flag and clock
``waiting``    ``wait_for``
``processes``  the bridge as separate processes; ``process_settings`` and ``probe`` run inside them
``fixtures``   fixtures of the delivery, security and bad-input suites (their conftests import them)
"""

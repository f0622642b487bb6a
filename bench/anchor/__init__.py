"""
The anchor: edx-submissions 4.0.2's XQueue API as published, with a receiver of its score event.

Runs in the benchmark's own virtualenv (``bench/.venv``, ``bench/requirements.txt``), never in the
bridge's. The receiver stands in for the LMS's ``handle_external_grader_score``: one sink row per event,
written in put_result's transaction, where edx-submissions sends the event.
"""

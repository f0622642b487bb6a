"""
The standalone sink: the bridge's own stand-in for the LMS's receiving ends.

It keeps each learner's problem state, hosts an ``xqueue_callback``-compatible URL and a receiver of
EXTERNAL_GRADER_SCORE_SUBMITTED, and both call the configured renderer.
"""

"""The XQueue accounts of the suite: the LMS's and the grader's (both in the ``xqueue`` group)."""

LMS_USER, LMS_PASSWORD = "lms", "lms-password"
GRADER_USER, GRADER_PASSWORD = "grader", "grader-password"

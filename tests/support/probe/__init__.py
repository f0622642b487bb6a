"""
A receiver of EXTERNAL_GRADER_SCORE_SUBMITTED for bridges run as separate processes by the tests: it
forwards each score to the recording server at ``XQB_TEST_EVENT_SINK_URL`` and raises when that server
does not answer 200, the way a receiver whose database is down raises.
"""

"""
The two course flags whose combination is a course's stage (see ``xqueue_bridge.stage.decide``).

======================  ====================  ================
stage                   event_delivery        shadow_compare
======================  ====================  ================
``callback``            off                   off
``shadow_callback``     off                   on
``shadow_event``        on                    on
``event``               on                    off
======================  ====================  ================

Change them per course or org with ``xqueue-bridge rollout`` (or ``xqueue_bridge.stage.rollout``), which sets
both at once; each is a ``toggles.flags.CourseFlag``.

Both flags hash courses into one bucket namespace, so their percentages nest: a course enters
``shadow_callback`` when shadow_compare's percentage passes its bucket, ``shadow_event`` when
event_delivery's does, and ``event`` when shadow_compare's percentage is lowered back below it. Raised in
that order (shadow_compare up, event_delivery up to it, then shadow_compare down), every course passes
through the four stages in order and none skips the comparison.
"""

from toggles.flags import CourseFlag

# .. toggle_name: xqueue_bridge.event_delivery
# .. toggle_implementation: WaffleFlag
# .. toggle_default: False
# .. toggle_description: Course-scoped (toggles.flags.CourseFlag): when on for a course, results of the
#   submissions made in that course from then on reach the LMS by the EXTERNAL_GRADER_SCORE_SUBMITTED event
#   (the event path is authoritative); when off, by the legacy XQueue HTTP callback. Decided per course by a
#   course override, then an org override, then a stable percentage of courses, then the waffle flag's
#   "Everyone" (only Yes turns it on). Set it together with xqueue_bridge.shadow_compare through
#   ``xqueue-bridge rollout set COURSE_OR_ORG STAGE --reason ...``.
# .. toggle_use_cases: temporary
# .. toggle_creation_date: 2026-11-25
# .. toggle_target_removal_date: 2027-12-31
# .. toggle_warning: The stage is fixed on each submission when the learner submits: turning the flag on or
#   off changes the path of later submissions only. Before turning it on for a course, check that the LMS
#   receives the event (a receiver of EXTERNAL_GRADER_SCORE_SUBMITTED, or the event bus producer).
BUCKET_NAMESPACE = "xqueue_bridge.stage"

EVENT_DELIVERY = CourseFlag("xqueue_bridge.event_delivery", __name__, bucket_namespace=BUCKET_NAMESPACE)

# .. toggle_name: xqueue_bridge.shadow_compare
# .. toggle_implementation: WaffleFlag
# .. toggle_default: False
# .. toggle_description: Course-scoped (toggles.flags.CourseFlag): when on for a course, each result is also
#   interpreted by the path that is not authoritative, in a dry run, and the two outcomes are compared and
#   recorded (shadow_callback when event delivery is off, shadow_event when it is on). The learner only ever
#   gets the authoritative path's result. Same precedence as xqueue_bridge.event_delivery.
# .. toggle_use_cases: temporary
# .. toggle_creation_date: 2026-11-25
# .. toggle_target_removal_date: 2027-12-31
# .. toggle_warning: Comparisons cost a dry run of the other path per sampled result (see the SHADOW
#   setting's SAMPLE_RATE).
SHADOW_COMPARE = CourseFlag("xqueue_bridge.shadow_compare", __name__, bucket_namespace=BUCKET_NAMESPACE)

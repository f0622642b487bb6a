import json

from bench.anchor.models import SinkRow


def on_score(sender, score, **kwargs):
    """As the LMS's receiver: read the reply's score, then write (here: one sink row)."""
    json.loads(score.score_msg)["score"]
    SinkRow.objects.create(submission_id=score.submission_id, queue_name=score.queue_name)

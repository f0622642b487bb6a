"""
Secrets stay secret on the operators' screens: the admin shows the names of uploaded files, never the
stored path (whose random folder is the capability its URL grants), and redacts the LMS's queue key by the
parsed value of each secret field, however the JSON spells it (escapes, re-encoding).
"""

from __future__ import annotations

import io
import json

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client

from tests.conftest import callback_url_for
from xqueue_bridge.models import Submission
from xqueue_bridge.redaction import redact, redact_json
from xqueue_bridge.runtime.clients import make_body, make_header


@pytest.fixture
def staff(transactional_db):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def admin_pages(staff, submission) -> str:
    pages = [staff.get(f"/admin/xqueue_bridge/submission/{submission.pk}/change/"),
             staff.get("/admin/xqueue_bridge/submission/")]
    assert [page.status_code for page in pages] == [200, 200]
    return "\n".join(page.content.decode() for page in pages)


def test_the_admin_shows_file_names_never_the_stored_path_that_grants_access(bridge_url, lms_session, staff):
    """Finding 4: the submission page showed the stored path, i.e. the file's capability URL."""
    header = make_header(callback_url_for("http://127.0.0.1:9", block="files"), "file-key-1", "test-pull")
    response = lms_session.post(f"{bridge_url}/xqueue/submit/", data={
        "xqueue_header": header, "xqueue_body": make_body("see file", "anon-1")},
        files={"code.py": ("code.py", io.BytesIO(b"print(1)\n"))})
    assert response.json()["return_code"] == 0
    submission = Submission.objects.get()
    stored = submission.files["code.py"]
    token = stored.split("/")[1]
    assert requests.get(f"{bridge_url}/xqueue/files/{stored.removeprefix('xqueue-files/')}").status_code == 200

    text = admin_pages(staff, submission)

    assert "code.py" in text
    assert token not in text and "xqueue-files/" not in text


@pytest.mark.parametrize(
    ("spelled", "key"),
    [
        ('"\\u0073ecret-key-0123456789"', "secret-key-0123456789"),  # an escape where none is needed
        ('"\\u0073\\u0065cret-key-0123456789"', "secret-key-0123456789"),
        (json.dumps("clé-secrète-0123456789"), "clé-secrète-0123456789"),  # json.dumps re-encodes non-ASCII
        ('"quote\\"d\\/key-0123456789"', 'quote"d/key-0123456789'),
    ],
    ids=["one-escape", "two-escapes", "re-encoded-non-ascii", "escaped-quote-and-slash"],
)
def test_the_admin_redacts_the_queue_key_however_the_header_spells_it(bridge_url, lms_session, staff, spelled, key):
    """Finding 4: redaction was a literal replace, so an escaped spelling of the key was shown."""
    url = callback_url_for("http://127.0.0.1:9", block="escaped")
    header = (f'{{"lms_callback_url": {json.dumps(url)}, "lms_key": {spelled}, "queue_name": "test-pull", '
              f'"echo": {spelled}}}')
    response = lms_session.post(f"{bridge_url}/xqueue/submit/",
                                data={"xqueue_header": header, "xqueue_body": make_body("x", "anon-1")})
    assert response.json()["return_code"] == 0
    submission = Submission.objects.get()
    assert submission.lms_key == key

    text = admin_pages(staff, submission)

    assert "[redacted]" in text
    html_spellings = {key, key.replace('"', "&quot;"), spelled.strip('"'), spelled.strip('"').replace('"', "&quot;")}
    for spelling in html_spellings:
        assert spelling not in text, spelling


@pytest.mark.parametrize(
    "text",
    [
        '{"lms_key": "\\u0073ecret-1"}',
        json.dumps({"lms_key": "secret-1", "nested": ["secret-1 again"]}),
        json.dumps({"error": "could not apply clé-1"}),
        "receiver failed for " + json.dumps("clé-1"),
        "receiver failed for clé-1",
    ],
    ids=["escaped-field", "nested-copy", "re-encoded-in-json", "re-encoded-in-text", "plain"],
)
def test_redaction_reads_each_secret_by_its_parsed_value(text):
    secrets = ("secret-1", "clé-1")
    redacted = redact_json(text, ("lms_key",), *secrets) if text.startswith("{") else redact(text, *secrets)
    decoded = json.loads(redacted) if text.startswith("{") else redacted
    flat = json.dumps(decoded, ensure_ascii=False)
    for secret in secrets:
        assert secret not in flat and json.dumps(secret)[1:-1] not in redacted
    assert "[redacted]" in redacted
    assert "\\u0073ecret" not in redacted

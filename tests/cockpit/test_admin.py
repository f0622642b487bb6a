"""The admin under the cockpit: submissions and deliveries filtered by course and by org, a stage column."""

from __future__ import annotations

import pytest

from tests.support import cockpit as seed

COURSE = "course-v1:BridgeX+Code101+2026"


@pytest.fixture
def admin_client_(client, db):
    client.force_login(seed.make_staff())
    subs = seed.submissions([COURSE], stage="shadow_event") + seed.submissions(
        ["course-v1:OtherU+Py+2026", "OldOrg/Legacy/2014"], stage="callback")
    seed.deliveries(subs, status="dead", attempts=3)
    return client


def _rows(page: bytes) -> str:
    return page.decode().split('id="result_list"', 1)[1].split("</table>", 1)[0]


def test_submissions_are_filtered_by_course_and_by_org(admin_client_):
    rows = _rows(admin_client_.get("/admin/xqueue_bridge/submission/", {"course": COURSE}).content)
    assert COURSE in rows and "OtherU" not in rows and "OldOrg" not in rows
    rows = _rows(admin_client_.get("/admin/xqueue_bridge/submission/", {"org": "OldOrg"}).content)
    assert "OldOrg/Legacy/2014" in rows and COURSE not in rows
    page = admin_client_.get("/admin/xqueue_bridge/submission/", {"org": "OtherU", "stage__exact": "callback"})
    html = page.content.decode()
    # The org box keeps the other filter in force when it is submitted again.
    assert '<input type="hidden" name="stage__exact" value="callback">' in html
    assert "course-v1:OtherU+Py+2026" in _rows(page.content)


def test_deliveries_show_course_and_stage_and_filter_by_org_and_stage(admin_client_):
    page = admin_client_.get("/admin/xqueue_bridge/delivery/", {"org": "BridgeX"})
    rows = _rows(page.content)
    assert COURSE in rows and "shadow_event" in rows and "OtherU" not in rows
    assert "column-stage" in page.content.decode()  # the stage column's header
    rows = _rows(admin_client_.get("/admin/xqueue_bridge/delivery/", {"submission__stage__exact": "callback"}).content)
    assert "OtherU" in rows and COURSE not in rows


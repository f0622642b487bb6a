"""
The dashboard in a real headless Chromium: log in as staff, see the stage map and the charts drawn, move a
course to its next stage through the page, see the history and the API agree, and see a refused move with
its reasons. ``make screenshots`` runs this test and keeps a picture of each page in docs/images/.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.wait import WebDriverWait

from tests.support import cockpit as seed
from tests.support.browser import chromium, screenshot_folder
from xqueue_bridge.stage import rollout

CALLBACK_COURSE = "course-v1:DemoX+Callback+2026"
SHADOW_COURSE = "course-v1:DemoX+Partial+2026"


@pytest.fixture
def browser(tmp_path):
    driver = chromium(tmp_path / "profile")
    yield driver
    driver.quit()


@pytest.fixture
def demo_courses(transactional_db):
    """Courses as ``make demo`` leaves them: one per stage, results on both paths, comparisons."""
    seed.make_staff()
    rollout.set_stage(SHADOW_COURSE, "shadow_callback", reason="partial credit pilot", changed_by="demo",
                      allow_unseen=True)
    rollout.set_stage("course-v1:OtherU+Event+2026", "event", reason="migrated", changed_by="demo",
                      allow_unseen=True, force=True)
    callback = seed.submissions([CALLBACK_COURSE] * 4, stage="callback", hours_ago=5)
    shadow = seed.submissions([SHADOW_COURSE] * 6, stage="shadow_callback", hours_ago=2)
    event = seed.submissions(["course-v1:OtherU+Event+2026"] * 5, stage="event", hours_ago=1)
    seed.deliveries(callback)
    seed.deliveries(shadow)
    seed.deliveries(event, path="event", latency=0.4)
    seed.comparisons(shadow[:5], status="matched")
    seed.comparisons(shadow[5:], status="mismatched")


def _shot(driver, name: str) -> None:
    folder = screenshot_folder()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(folder / f"{name}.png"))


def _submit(driver, button) -> None:
    """Click a form's button and wait until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(driver, 60).until(staleness_of(page))
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
        and d.find_elements(By.TAG_NAME, "main")
    )


def _json(driver, url: str):
    driver.get(url)
    return json.loads(driver.find_element(By.TAG_NAME, "body").text)


def test_an_operator_reads_the_migration_and_moves_a_course(browser, live_server, demo_courses):
    browser.get(f"{live_server.url}/cockpit/")
    assert "/admin/login/" in browser.current_url  # staff only: the admin's login first
    browser.find_element(By.NAME, "username").send_keys(seed.STAFF)
    browser.find_element(By.NAME, "password").send_keys(seed.STAFF_PASSWORD)
    _submit(browser, browser.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.ID, "stage-map"))
    assert browser.current_url == f"{live_server.url}/cockpit/"

    # The stage map and both charts are drawn: shapes with a size, not an empty picture.
    stage_bars = browser.find_elements(By.CSS_SELECTOR, "#stage-map svg rect.stage")
    assert len(stage_bars) == 3 and all(bar.size["width"] > 0 for bar in stage_bars)
    volume = browser.find_elements(By.CSS_SELECTOR, "#volume svg rect.bar")
    assert volume and all(bar.size["height"] > 0 for bar in volume)
    dots = browser.find_elements(By.CSS_SELECTOR, "#matches svg circle.dot")
    assert dots and browser.find_element(By.CSS_SELECTOR, "#matches svg").size["height"] > 100
    assert "83.3%" in dots[-1].get_attribute("innerHTML")
    _shot(browser, "cockpit-overview")

    # Move the callback course on to shadow_callback through its page.
    browser.get(f"{live_server.url}/cockpit/courses/?q=DemoX")
    _shot(browser, "cockpit-courses")
    _submit(browser, browser.find_element(By.LINK_TEXT, CALLBACK_COURSE))
    assert browser.find_element(By.ID, "current-stage").text == "callback"
    form = browser.find_element(By.ID, "move-next")
    form.find_element(By.NAME, "reason").send_keys("start shadowing")
    _submit(browser, form.find_element(By.CSS_SELECTOR, "button"))
    assert browser.find_element(By.ID, "current-stage").text == "shadow_callback"
    first_row = browser.find_elements(By.CSS_SELECTOR, "#history-table tr")[1].text
    assert "stage shadow_callback" in first_row and "start shadowing" in first_row and seed.STAFF in first_row
    _shot(browser, "cockpit-course")

    # The API, in the same session, tells the same story.
    history = _json(browser, f"{live_server.url}/api/v1/history/?course={quote(CALLBACK_COURSE)}")["results"]
    assert (history[0]["change"], history[0]["reason"], history[0]["changed_by"]) == (
        "stage shadow_callback", "start shadowing", seed.STAFF)
    assert _json(browser, f"{live_server.url}/api/v1/courses/{CALLBACK_COURSE}/")["stage"] == "shadow_callback"

    # The shadow course is not ready: its move on is refused with the reasons, and nothing changes.
    browser.get(f"{live_server.url}/cockpit/courses/{SHADOW_COURSE}/")
    form = browser.find_element(By.ID, "move-next")
    form.find_element(By.NAME, "reason").send_keys("looks good")
    _submit(browser, form.find_element(By.CSS_SELECTOR, "button"))
    refusal = browser.find_element(By.ID, "refusal")
    assert "Move refused" in refusal.text
    assert "6 comparisons in shadow_callback, at least 100 needed" in refusal.text
    assert "mismatch rate 16.7% is above 0.0%" in refusal.text
    assert browser.find_element(By.ID, "current-stage").text == "shadow_callback"
    _shot(browser, "cockpit-refused-move")
    assert _json(browser, f"{live_server.url}/api/v1/courses/{SHADOW_COURSE}/")["stage"] == "shadow_callback"

"""A real headless Chromium driven by Selenium (Debian's chromium and chromium-driver; ``make test``
installs them): a fresh profile per test, no network beyond loopback, no background traffic."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1600",
)


def chromium(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    # Never let Selenium Manager look for a driver or a browser on the network: both are the Debian ones.
    os.environ["SE_OFFLINE"] = "true"
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    return driver


def screenshot_folder() -> Path | None:
    """``make screenshots`` sets XQB_SCREENSHOTS to the folder the README's pictures are written to."""
    folder = os.environ.get("XQB_SCREENSHOTS")
    return Path(folder) if folder else None

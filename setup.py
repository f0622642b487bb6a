"""Packaging for xqueue-bridge: an XQueue-compatible queue that moves Open edX graders to events."""

from pathlib import Path

from setuptools import find_packages, setup


def load_requirements(path: str) -> list[str]:
    """The requirements of a pip-tools ``.in`` file (its options and comments left out)."""
    requirements = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirements.append(line)
    return requirements


BASE = load_requirements("requirements/base.in")

SERVICES = [
    "edx-event-bus-redis>=0.6",
    "redis>=5.0",
    "celery[redis]>=5.4",
    "PyMySQL>=1.1",
    "psycopg[binary]>=3.1",
]

TESTS = SERVICES + [
    "pytest>=8.0",
    "pytest-django>=4.8",
    "responses>=0.25",
    "hypothesis>=6.100",
    # The differential test feeds the same grader replies to edx-submissions' own put_result.
    "edx-submissions==4.0.2",
    # The toggle and settings contract tests read the annotations the way Open edX's tools do.
    "code-annotations>=2.0",
    # The dashboard's browser test drives Debian's chromium through chromedriver.
    "selenium>=4.20",
]

LINT = ["ruff>=0.6", "import-linter>=2.5"]

setup(
    name="xqueue-bridge",
    version="0.1.0",
    description=(
        "An XQueue-compatible grading queue that routes each grader result to the LMS by the legacy "
        "HTTP callback or by the EXTERNAL_GRADER_SCORE_SUBMITTED event, course by course."
    ),
    long_description=open("README.rst", encoding="utf-8").read(),
    long_description_content_type="text/x-rst",
    license="AGPL-3.0",
    python_requires=">=3.11",
    packages=find_packages(include=["xqueue_bridge", "xqueue_bridge.*", "toggles", "toggles.*"]),
    include_package_data=True,
    package_data={
        "xqueue_bridge": ["templates/xqueue_bridge/*.html", "cockpit/templates/cockpit/*.html",
                          "cockpit/static/cockpit/*"],
    },
    install_requires=BASE,
    extras_require={"services": SERVICES, "tests": TESTS, "lint": LINT},
    entry_points={
        "console_scripts": ["xqueue-bridge = xqueue_bridge.runtime.cli:main"],
        # An Open edX plugin app: edx-platform (and any project using edx-django-utils' plugins) finds it here.
        "lms.djangoapp": ["xqueue_bridge = xqueue_bridge.apps:XQueueBridgeConfig"],
    },
    classifiers=[
        "Framework :: Django",
        "Framework :: Django :: 5.2",
        "Programming Language :: Python :: 3.11",
    ],
)

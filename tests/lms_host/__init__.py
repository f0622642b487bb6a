"""
A minimal LMS-shaped Django project: the bridge is installed in it only through edx-django-utils' plugin
machinery (the ``lms.djangoapp`` entry point), as edx-platform installs its plugins, and its ``courseware``
app plays edx-platform's receiving ends (the ``xqueue_callback`` view and ``handle_external_grader_score``).
Its tests run with ``--ds tests.lms_host.settings`` (``make test`` does).
"""

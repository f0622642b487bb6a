"""WSGI entry point of a standalone bridge (used by ``xqueue-bridge serve``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xqueue_bridge.runtime.settings")
application = get_wsgi_application()

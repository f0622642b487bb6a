"""The SQLite database backend of the standalone service: Django's, with a writers' queue (``base``)."""

ENGINE = "xqueue_bridge.runtime.sqlite"

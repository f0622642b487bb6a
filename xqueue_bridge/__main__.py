"""``python -m xqueue_bridge`` is the ``xqueue-bridge`` command."""

from xqueue_bridge.cli import main

main()

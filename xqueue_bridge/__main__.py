"""``python -m xqueue_bridge`` is the ``xqueue-bridge`` command."""

from xqueue_bridge.runtime.cli import main

main()

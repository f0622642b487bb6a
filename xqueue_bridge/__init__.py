"""xqueue-bridge: an XQueue-compatible grading queue that carries Open edX courses to event delivery."""

__version__ = "0.1.0"

"""The bridge as a benchmark target: ``xqueue-bridge serve`` on its own settings, and its control process."""

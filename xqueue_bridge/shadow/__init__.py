"""Shadow mode: run the candidate path as a dry run beside the authoritative one and compare outcomes."""

"""Django settings modules for running the bridge on its own (``xqueue-bridge`` uses ``standalone``)."""

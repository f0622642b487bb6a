"""The bridge under gunicorn, configured in code (threaded workers, a drainer thread per worker)."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


def _start_drainer(worker) -> None:
    from xqueue_bridge.outbox.runners import start_drainer_thread

    start_drainer_thread()


class BridgeApplication(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            if key in self.cfg.settings:  # settings newer than the installed gunicorn are left out
                self.cfg.set(key, value)

    def load(self):
        from xqueue_bridge.runtime.wsgi import application

        return application


def run(*, host: str, port: int, workers: int, threads: int, timeout: int, drainer: bool, access_log: bool) -> None:
    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": timeout,
        "graceful_timeout": 10,
        "keepalive": 5,
        "proc_name": "xqueue-bridge",
        # gunicorn 23+ opens a control socket in the home folder by default; several bridges (tests, demo)
        # on one machine would share it.
        "control_socket_disable": True,
    }
    if access_log:
        options["accesslog"] = "-"
    if drainer:
        options["post_worker_init"] = _start_drainer
    BridgeApplication(options).run()

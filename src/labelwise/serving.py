"""`labelwise serve`: uvicorn on the app factory, in one process or in N balanced workers.

uvicorn's own `--workers` shares one listening socket among the workers, and whichever is
awake accepts: under keep-alive load one worker ended up with most connections and the
second core stayed idle (bench/RESULTS.md). Here every worker listens on its own
SO_REUSEPORT socket, so the kernel spreads new connections evenly over them, and a worker
that dies is started again.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn

RESTART_PAUSE_SECONDS = 1.0
STOP_GRACE_SECONDS = 10.0


def _uvicorn_options(host: str, port: int) -> dict[str, Any]:
    """Worker processes build the app themselves, with settings from LABELWISE_*."""
    return {
        "app": "labelwise.app:app_from_env",
        "factory": True,
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "proxy_headers": False,
    }


def serve(host: str, port: int, workers: int) -> None:
    """Serve until interrupted: in this process, or as a supervisor of `workers` processes."""
    if workers <= 1:
        uvicorn.run(**_uvicorn_options(host, port))
        return
    _listening_socket(host, port).close()  # a taken port fails here, once, with its error
    Supervisor(host, port, workers).run()


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int) -> None:
    sock = _listening_socket(host, port)
    sock.listen(2048)
    uvicorn.Server(uvicorn.Config(**_uvicorn_options(host, port))).run(sockets=[sock])


class Supervisor:
    """Keeps `count` worker processes running until SIGINT or SIGTERM, then stops them."""

    def __init__(self, host: str, port: int, count: int) -> None:
        self.host, self.port, self.count = host, port, count
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[BaseProcess] = []
        self.stopping = False

    def run(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)
        self.workers = [self._start() for _ in range(self.count)]
        while not self.stopping:
            time.sleep(0.2)
            for index, worker in enumerate(self.workers):
                if not worker.is_alive() and not self.stopping:
                    print(
                        f"labelwise: worker {worker.pid} exited with {worker.exitcode}; "
                        "starting another",
                        file=sys.stderr,
                    )
                    time.sleep(RESTART_PAUSE_SECONDS)
                    self.workers[index] = self._start()
        self._stop_workers()

    def _start(self) -> BaseProcess:
        worker = self.context.Process(target=_worker, args=(self.host, self.port))
        worker.start()
        return worker

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def _stop_workers(self) -> None:
        for worker in self.workers:
            worker.terminate()  # uvicorn finishes the requests in flight on SIGTERM
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for worker in self.workers:
            worker.join(max(deadline - time.monotonic(), 0))
            if worker.is_alive():
                worker.kill()
                worker.join()

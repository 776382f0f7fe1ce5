"""A real `verity serve` (authentication off, SQLite in a temporary directory) per test."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process that can be stopped and started again on the same data and port."""

    def __init__(self, data_dir: str) -> None:
        self.binary = os.environ.get("VERITY_BIN", "verity")
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "serve", "--auth", "disabled", "--data-dir", self.data_dir,
             "--bind", f"127.0.0.1:{self.port}", "--no-worker"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/ready", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("verity serve did not become ready")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def server(tmp_path):
    s = Server(str(tmp_path / "data"))
    yield s
    s.stop()

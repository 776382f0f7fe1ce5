"""The module-level API's state: the default client and the active runs (ended at exit)."""

from __future__ import annotations

import atexit
import threading
from typing import List

_lock = threading.Lock()
_runs: List = []


def remember(run) -> None:
    with _lock:
        _runs.append(run)


def forget(run) -> None:
    with _lock:
        if run in _runs:
            _runs.remove(run)


def active():
    with _lock:
        return _runs[-1] if _runs else None


@atexit.register
def _end_all() -> None:
    """Flushes and ends runs still open at exit, so nothing queued is lost."""
    while True:
        run = active()
        if run is None:
            return
        try:
            run.end("FINISHED")
        except Exception as e:  # reported, not swallowed silently
            import sys
            print(f"verity: ending run {run.id} at exit failed: {e}", file=sys.stderr)
            forget(run)

"""System metrics sampled on an interval (Linux `/proc`; GPUs through `nvidia-smi` when it is
present), under MLflow's names: `system/cpu_utilization_percentage`,
`system/system_memory_usage_megabytes`, `system/system_memory_usage_percentage`,
`system/gpu_<i>_utilization_percentage`, `system/gpu_<i>_memory_usage_megabytes`."""

from __future__ import annotations

import shutil
import subprocess
import threading
from typing import Dict, Optional, Tuple


def _cpu_times() -> Optional[Tuple[int, int]]:
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields), idle


def _memory() -> Dict[str, float]:
    try:
        with open("/proc/meminfo") as f:
            info = {line.split(":")[0]: int(line.split()[1]) for line in f if ":" in line}
    except (OSError, ValueError, IndexError):
        return {}
    total, available = info.get("MemTotal"), info.get("MemAvailable")
    if not total or available is None:
        return {}
    used = total - available
    return {"system/system_memory_usage_megabytes": used / 1024,
            "system/system_memory_usage_percentage": 100.0 * used / total}


def _gpus() -> Dict[str, float]:
    if shutil.which("nvidia-smi") is None:
        return {}
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=5, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    metrics = {}
    for i, line in enumerate(out.strip().splitlines()):
        try:
            util, mem = (float(x) for x in line.split(","))
        except ValueError:
            continue
        metrics[f"system/gpu_{i}_utilization_percentage"] = util
        metrics[f"system/gpu_{i}_memory_usage_megabytes"] = mem
    return metrics


class SystemMonitor:
    """Logs system metrics to a run every `interval` seconds until stopped."""

    def __init__(self, run, interval: float = 10.0) -> None:
        self._run = run
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="verity-system", daemon=True)
        self._thread.start()

    def sample(self, previous: Optional[Tuple[int, int]]) -> Tuple[Dict[str, float], Optional[Tuple[int, int]]]:
        """One sample, and the CPU counters for the next one."""
        metrics: Dict[str, float] = {}
        now = _cpu_times()
        if previous and now and now[0] > previous[0]:
            busy = (now[0] - previous[0]) - (now[1] - previous[1])
            metrics["system/cpu_utilization_percentage"] = 100.0 * busy / (now[0] - previous[0])
        metrics.update(_memory())
        metrics.update(_gpus())
        return metrics, now

    def _loop(self) -> None:
        step, counters = 0, _cpu_times()
        while not self._stop.wait(self._interval):
            metrics, counters = self.sample(counters)
            if metrics:
                try:
                    self._run.log_metrics(metrics, step=step)
                except Exception:
                    return
                step += 1

    def stop(self) -> None:
        """Stops sampling."""
        self._stop.set()
        self._thread.join(timeout=self._interval + 1)

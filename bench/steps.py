"""Running a benchmark step in a fresh process, so its time and peak memory are its own.

Shared by `import_export.py` and `releases.py` (run as scripts: this directory is on the path).
"""

from __future__ import annotations

import multiprocessing
import queue
import resource
from collections.abc import Callable
from typing import Any


def peak_rss_mb() -> float:
    """This process's own peak RSS. (ru_maxrss would count the parent's, from before exec.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_child(run: Callable[[Any, Any], None], step: Any, name: str) -> Any:
    """`run(step, results)` in a spawned process; what it put on `results`, or its error."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=run, args=(step, results))
    child.start()
    while True:
        try:
            outcome = results.get(timeout=1)
            break
        except queue.Empty:
            if not child.is_alive():
                died = f"{name}: the process died (exit code {child.exitcode})"
                raise RuntimeError(died) from None
    child.join()
    if isinstance(outcome, str):
        raise RuntimeError(f"{name} failed: {outcome}")
    return outcome

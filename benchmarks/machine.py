"""What machine a benchmark ran on: printed beside every ratio (machines here are shared)."""

from __future__ import annotations

import os
import platform


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe() -> str:
    """One line: platform, CPU, cores, Python and numpy versions."""
    import numpy as np

    return (
        f"{platform.platform()} | {cpu_model()} | {os.cpu_count()} cores | "
        f"Python {platform.python_version()} | numpy {np.__version__}"
    )

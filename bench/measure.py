"""Measuring one run as its own process: wall time, CPU time and peak RSS of the child.

Each pipeline run (immfacts ingest, the floor, the pandas pipeline, a Spark session) is a
separate process started by :func:`run_child`. Its resource usage comes from ``os.wait4`` on
that very child — the kernel's rusage of the process and of the children it waited for — so
no external ``/usr/bin/time`` is needed and runs do not pollute each other (the parent's
``RUSAGE_CHILDREN`` is a running maximum over *all* children and cannot be split per run).

The child's stdout goes to a file (no pipe to drain, no deadlock); by convention its machine-readable
result is its whole stdout as JSON, or else the last line that parses as a JSON object.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunRecord:
    """One measured child process."""

    label: str
    cmd: list[str]
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    exit_code: int
    result: dict[str, Any] | None = None
    stderr_tail: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_result(text: str) -> dict[str, Any] | None:
    """A child's result: its whole stdout as one JSON object, else its last JSON-object line."""
    try:
        obj = json.loads(text)
    except ValueError:
        return last_json_line(text)
    return obj if isinstance(obj, dict) else None


def last_json_line(text: str) -> dict[str, Any] | None:
    """The last line of ``text`` that is a JSON object, or None."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                return obj
    return None


def maxrss_mb(ru_maxrss: int) -> float:
    """``ru_maxrss`` in MB (kilobytes on Linux, bytes on macOS)."""
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


def run_child(label: str, cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
              timeout_s: float | None = None, meta: dict[str, Any] | None = None) -> RunRecord:
    """Run ``cmd`` as a child process and measure it (see the module docstring).

    A child that exceeds ``timeout_s`` is killed and recorded with exit code -9.
    """
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json", delete=False) as usage_file:
        usage = Path(usage_file.name)
        t0 = time.perf_counter()
        # A small launcher process starts the command and reports its rusage: a child forked
        # straight from this (possibly large) process would count our own resident pages in its
        # peak RSS until it execs (the kernel keeps the high-water mark across exec).
        launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(usage), *[str(c) for c in cmd]]
        proc = subprocess.Popen(launcher, stdout=out, stderr=err, env=full_env, cwd=cwd or ROOT,
                                start_new_session=True)
        status, ru = _wait(proc, timeout_s)
        wall = time.perf_counter() - t0
        proc.returncode = status
        child = json.loads(usage.read_text() or "null") if usage.exists() else None
        usage.unlink(missing_ok=True)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    user_s, sys_s, maxrss = (child["utime"], child["stime"], child["maxrss"]) if child else (
        ru.ru_utime, ru.ru_stime, ru.ru_maxrss)
    return RunRecord(
        label=label, cmd=[str(c) for c in cmd], wall_s=wall, user_s=user_s, sys_s=sys_s,
        peak_rss_mb=maxrss_mb(maxrss), exit_code=status, result=parse_result(stdout),
        stderr_tail=stderr[-2000:] if status else "", meta=dict(meta or {}),
    )


_LAUNCHER = """
import json, os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, ru = os.wait4(proc.pid, 0)
code = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as fh:
    json.dump({"utime": ru.ru_utime, "stime": ru.ru_stime, "maxrss": ru.ru_maxrss, "code": code}, fh)
sys.exit(code if code >= 0 else 128 - code)
"""


def _wait(proc: subprocess.Popen, timeout_s: float | None) -> tuple[int, Any]:
    """``os.wait4`` on the child, killing it after ``timeout_s`` seconds."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        pid, status, ru = os.wait4(proc.pid, 0 if deadline is None else os.WNOHANG)
        if pid == proc.pid:
            return os.waitstatus_to_exitcode(status), ru
        if deadline is not None and time.monotonic() > deadline:
            import signal

            os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the command it started
            _pid, status, ru = os.wait4(proc.pid, 0)
            return -9, ru
        time.sleep(0.05)

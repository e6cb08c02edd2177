"""Resource limits of an ingest: unpacked size, expansion ratio, DuckDB memory and threads.

A release zip is untrusted input. Before anything is extracted, the zip's central directory is
checked against two caps: the total unpacked size (``IMMFACTS_MAX_UNPACKED_GB``, default 100 GB;
the real 4.6 GB release unpacks to ~25 GB) and the per-member expansion ratio
(``IMMFACTS_MAX_RATIO``, default 250; real tab-delimited tables compress 5–20×, a deflate bomb
reaches ~1000×). While streaming, a member that yields more bytes than its header declared is
refused too. DuckDB gets one memory limit for the whole ingest, the canonical model included
(``IMMFACTS_DUCKDB_MEMORY``, default 1GB), and spills to the build folder beyond it; its CSV
reader gets fixed 16 MiB buffers (its default is 16× the longest line allowed: 128 MiB per
buffer for 8 MiB lines). DuckDB's share of the peak is thus capped whatever the release's size.
A release of more than 130,000 cases has its model built in buckets of that many cases
(``IMMFACTS_MODEL_BUCKET_CASES``), so the model's joins never hold the whole release.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from immfacts.errors import InputError

GB = 1024**3


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{name}={raw!r} is not a number", hint=f"unset it or give a number (default {default:g})") from None
    if value <= 0:
        raise InputError(f"{name}={raw!r} must be positive", hint=f"unset it or give a number (default {default:g})")
    return value


@dataclass(frozen=True)
class Limits:
    """Caps applied to one ingest (see the module docstring for the defaults)."""

    max_unpacked_bytes: int = 100 * GB
    max_ratio: float = 250.0
    ratio_min_bytes: int = 1024 * 1024  # tiny members may compress extremely well; only check above this
    memory_limit: str = "1GB"
    threads: int = 2
    max_line_bytes: int = 1024 * 1024  # longer lines go to Python (real EOIR lines are < 4 KB)
    max_bad_lines: int = 2_000_000

    @classmethod
    def from_env(cls) -> Limits:
        """Limits from ``IMMFACTS_MAX_UNPACKED_GB``, ``IMMFACTS_MAX_RATIO``, ``IMMFACTS_DUCKDB_MEMORY``."""
        mem = os.environ.get("IMMFACTS_DUCKDB_MEMORY", "").strip() or cls.memory_limit
        threads = int(_env_float("IMMFACTS_THREADS", float(os.cpu_count() or 2)))
        return cls(
            max_unpacked_bytes=int(_env_float("IMMFACTS_MAX_UNPACKED_GB", 100.0) * GB),
            max_ratio=_env_float("IMMFACTS_MAX_RATIO", 250.0),
            memory_limit=mem,
            threads=max(1, threads),
        )

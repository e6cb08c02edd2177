"""The floor: the least work that turns a release zip into Parquet on this machine.

    .venv/bin/python bench/baselines/floor.py RELEASE.zip OUT_DIR

For every ``.csv`` member (main tables and lookups): unzip it to a file (streamed, Deflate64
too), then one DuckDB ``COPY (SELECT * FROM read_csv(..., all_varchar=true)) TO
'<Table>.parquet'`` — tab-delimited, unquoted, latin-1, header row, snappy like immfacts. No
repair, no typing, no accounting: malformed lines are padded or dropped by DuckDB's own
``null_padding``/``ignore_errors`` (so the floor may load a few rows fewer or wrong). DuckDB
uses its defaults (every core, 80 % of RAM). immfacts' ingest within 1.5× of this is the
target. Prints one JSON line: tables, rows written, unpacked bytes, elapsed seconds.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import zipfile
from pathlib import Path, PurePosixPath

import duckdb
import zipfile_deflate64  # noqa: F401  (registers Deflate64 with zipfile)

READ_OPTIONS = ("delim='\\t', header=true, all_varchar=true, quote='', escape='', encoding='latin-1', "
                "null_padding=true, ignore_errors=true, strict_mode=false")


def run(zip_path: Path, out_dir: Path) -> dict:
    """Unzip + plain CSV → Parquet for every ``.csv`` member; returns what was written."""
    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = out_dir / "unzipped"
    scratch.mkdir(exist_ok=True)
    con = duckdb.connect()
    rows: dict[str, int] = {}
    unpacked = 0
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or name.suffix.lower() != ".csv":
                continue
            csv_path = scratch / name.name
            with z.open(info) as src, open(csv_path, "wb") as dst:
                shutil.copyfileobj(src, dst, 8 << 20)
            unpacked += info.file_size
            target = out_dir / f"{name.stem}.parquet"
            n = con.execute(
                f"COPY (SELECT * FROM read_csv('{csv_path}', {READ_OPTIONS})) "
                f"TO '{target}' (FORMAT parquet, COMPRESSION snappy)"
            ).fetchone()
            rows[name.stem] = int(n[0]) if n else 0
            csv_path.unlink()
    con.close()
    scratch.rmdir()
    return {"pipeline": "floor", "tables": len(rows), "rows": sum(rows.values()), "rows_by_table": rows,
            "unpacked_bytes": unpacked, "elapsed_s": time.perf_counter() - t0}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(run(Path(argv[0]), Path(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

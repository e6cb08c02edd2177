"""A plain pandas pipeline: what an analyst would write to load the release with pandas.

    .venv/bin/python bench/baselines/pandas_pipeline.py RELEASE.zip OUT_DIR

For every main table (matched to the schema registry by file name): ``pd.read_csv`` of the zip
member (tab-delimited, unquoted, latin-1, all strings, malformed lines skipped), then the same
*kind* of cleaning immfacts does, column by column with pandas' vectorised methods: trim
whitespace, null-like tokens (``NULL``, ``N/A``, ``b6`` …) to missing, upper-case coded
columns, keys to integers, ``TIMESTAMP`` columns parsed (errors and years before 1900 to
missing), exact duplicate rows and repeated primary keys dropped (first kept); then
``to_parquet`` (pyarrow, snappy). Lookups are copied the same way, untyped. Whole tables are
held in memory — that is the plain approach. Prints one JSON line like the floor.
"""

from __future__ import annotations

import csv
import json
import sys
import time
import zipfile
from pathlib import Path, PurePosixPath

import pandas as pd
import zipfile_deflate64  # noqa: F401  (registers Deflate64 with zipfile)

from immfacts.schema import find_table

NULL_TOKENS = ["", "NULL", "N/A", "NA", "B6", "(B)(6)", "???"]


def _read(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> pd.DataFrame:
    with z.open(info) as fh:
        return pd.read_csv(fh, sep="\t", dtype=str, encoding="latin-1", quoting=csv.QUOTE_NONE,
                           on_bad_lines="skip", keep_default_na=False, na_filter=False)


def clean(df: pd.DataFrame, spec) -> pd.DataFrame:
    """Trim, null tokens, codes upper-cased, keys as integers, dates parsed, duplicates dropped."""
    df = df.drop_duplicates()
    for name in df.columns:
        s = df[name].str.strip()
        s = s.mask(s.str.upper().isin(NULL_TOKENS))
        col = spec.column(name) if spec else None
        key = spec and (name == spec.primary_key or name in spec.parent_keys)
        if key:
            df[name] = pd.to_numeric(s, errors="coerce").astype("Int64")
        elif col is not None and col.type == "TIMESTAMP":
            ts = pd.to_datetime(s, format="%Y-%m-%d %H:%M:%S.%f", errors="coerce")
            df[name] = ts.mask(ts.dt.year < 1900)
        elif col is not None and (col.lookup or col.pattern):
            df[name] = s.str.upper()
        else:
            df[name] = s
    if spec and spec.primary_key in df.columns:
        df = df[df[spec.primary_key].notna()].drop_duplicates(subset=[spec.primary_key])
    return df


def run(zip_path: Path, out_dir: Path) -> dict:
    """Load, clean and write every ``.csv`` member; returns what was written."""
    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    unpacked = 0
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or name.suffix.lower() != ".csv":
                continue
            unpacked += info.file_size
            spec = find_table(name.stem)
            df = _read(z, info)
            if spec is not None and spec.kind == "main":
                df = clean(df, spec)
            df.to_parquet(out_dir / f"{name.stem}.parquet", engine="pyarrow", compression="snappy", index=False)
            rows[name.stem] = len(df)
            del df
    return {"pipeline": "pandas", "tables": len(rows), "rows": sum(rows.values()), "rows_by_table": rows,
            "unpacked_bytes": unpacked, "elapsed_s": time.perf_counter() - t0}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(run(Path(argv[0]), Path(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Child process of the ingest benchmark: one ``immfacts.ingest`` into a fresh warehouse.

    .venv/bin/python bench/child_ingest.py RELEASE.zip WAREHOUSE_DIR

Prints one JSON line: rows read/loaded/quarantined, the per-table seconds the report gives,
the total, and (when the model build reports it) the canonical-model seconds — so the
benchmark can tell table ingest from the model build.
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    import immfacts

    t_import = time.perf_counter() - t0
    report = immfacts.ingest(argv[0], warehouse=argv[1]).to_dict()
    tables = report.get("tables", {})
    out = {
        "pipeline": "immfacts",
        "import_s": t_import,
        "elapsed_s": report.get("elapsed_s"),
        "tables": len(tables),
        "rows": sum(t.get("rows_read", 0) for t in tables.values()),
        "rows_loaded": sum(t.get("rows_loaded", 0) for t in tables.values()),
        "rows_quarantined": sum(t.get("rows_quarantined", 0) for t in tables.values()),
        "table_s": {n: t.get("elapsed_s") for n, t in tables.items()},
        "model": {k: v for k, v in (report.get("model") or {}).items() if k in ("built", "elapsed_s", "timings", "reason")},
        "synthetic": report.get("release", {}).get("synthetic"),
    }
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""SYNTHETIC sample releases of the EOIR case data, with their ground truth.

``immfacts.sample("sample.zip", scale=0.001, seed=0)`` writes a zip in the exact layout and
byte format of the real release (``MMDDYY-FOIA-TRAC-FILES/`` with the main tables, ``Lookup/``
and ``Count.txt``; tab-delimited, unquoted, latin-1, CRLF) plus ``README-SYNTHETIC.txt``, the
marker ingest detects. The cases are invented by a vectorised model of the courts
(:mod:`immfacts.sample.model`), shaped on public calibration data; the real quirks are injected
and counted (:mod:`immfacts.sample.quirks`); and ``sample.truth.json`` next to the zip holds
what a correct ingest must report for every table and the true value of the EOIR metrics
(:mod:`immfacts.sample.truth`).

Speed (2 shared cores, load average 4-9, ``/usr/bin/time -v python -m immfacts sample OUT.zip
--scale S``): 0.01 in 10 s (1.4M lines, 45 MB zip, 0.5 GB peak RSS), 0.1 in 1.5 min (14.5M
lines, 450 MB, 1.3 GB), 1.0 in 19.5 min (145M lines, 4.5 GB, 9.7 GB). Tables are written in
500k-row chunks (:mod:`immfacts.sample.writer`); memory is dominated by the entities, which are
held whole (about 5 GB of arrays at 1.0).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from immfacts.errors import ImmfactsError, InputError

__all__ = ["SampleInfo", "write_sample", "load_truth", "truth_path", "DEFAULT_QUIRK_RATES"]

from immfacts.sample.quirks import DEFAULT_QUIRK_RATES  # noqa: E402


@dataclass
class SampleInfo:
    """What :func:`write_sample` wrote."""

    path: str
    truth_path: str
    folder: str
    data_date: str
    seed: int
    scale: float
    compression: str
    tables: dict[str, int]
    quirks: dict[str, dict[str, int]]
    elapsed_s: float
    synthetic: bool = True
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def truth_path(zip_path: str | os.PathLike[str]) -> Path:
    """``OUT.truth.json`` for ``OUT.zip``."""
    p = Path(zip_path)
    return p.with_name(p.name[: -len(p.suffix)] + ".truth.json" if p.suffix else p.name + ".truth.json")


def load_truth(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The truth sidecar of a sample release (give the zip or the ``.truth.json`` itself)."""
    p = Path(path)
    if p.suffix.lower() != ".json":
        p = truth_path(p)
    if not p.is_file():
        raise InputError(f"no truth sidecar at {p}", hint="sample releases written by `immfacts sample` have OUT.truth.json next to OUT.zip")
    return json.loads(p.read_text())


def _parse_date(d: str | dt.date) -> dt.date:
    if isinstance(d, dt.date):
        return d
    try:
        return dt.date.fromisoformat(str(d))
    except ValueError:
        raise ImmfactsError(f"data date {d!r} is not a date", hint="give it as YYYY-MM-DD, e.g. 2026-07-08") from None


def _check_rates(quirk_rates: dict[str, float] | None) -> dict[str, float]:
    rates = dict(DEFAULT_QUIRK_RATES)
    for k, v in (quirk_rates or {}).items():
        if k not in rates:
            raise ImmfactsError(f"unknown quirk class {k!r}", hint="known classes: " + ", ".join(sorted(rates)))
        if not (0.0 <= float(v) <= 0.01):
            raise ImmfactsError(f"quirk rate {k}={v} is outside 0..0.01", hint="rates are per row; 0 disables a class")
        rates[k] = float(v)
    return rates


def write_sample(
    out: str | os.PathLike[str],
    *,
    scale: float = 0.001,
    seed: int = 0,
    compression: str = "deflate",
    quirk_rates: dict[str, float] | None = None,
    data_date: str | dt.date = "2026-07-08",
    progress: Callable[[str, int, int], None] | Any | None = None,
) -> SampleInfo:
    """Write a SYNTHETIC sample release to ``out`` (a .zip) and its truth to ``OUT.truth.json``.

    ``scale`` 1.0 is about the real release's size (12.7M cases); ``seed`` makes the output
    byte-identical for the same arguments; ``compression`` is ``deflate`` or ``deflate64``
    (needs 7-Zip); ``quirk_rates`` overrides per-row rates of quirk classes
    (:data:`DEFAULT_QUIRK_RATES`, each class gets at least 2 rows per table when its rate is
    above 0); ``data_date`` names the release folder and ends the data; ``progress`` is a
    callback ``(table, rows_done, rows_total)`` or a Rich ``Progress``.
    """
    from immfacts.sample import model, tables, truth, volumes
    from immfacts.sample.quirks import KeyPool, quirk_counts
    from immfacts.sample.writer import README, ReleaseZip, folder_name, lookup_files, write_table
    from immfacts.schema import main_tables

    t0 = time.perf_counter()
    if not (0 < float(scale) <= 2.0):
        raise ImmfactsError(f"scale {scale} is outside (0, 2]", hint="1.0 is the real release's size; 0.001 runs in seconds")
    if compression not in ("deflate", "deflate64"):
        raise ImmfactsError(f"unknown compression {compression!r}", hint="use deflate or deflate64")
    dd = _parse_date(data_date)
    if not (dt.date(1998, 1, 1) <= dd <= dt.date(2040, 12, 31)):
        raise ImmfactsError(f"data date {dd} is outside 1998..2040", hint="the sample's courts open in FY1992")
    rates = _check_rates(quirk_rates)
    out = Path(out)
    if not out.parent.exists():
        raise InputError(f"folder {out.parent} does not exist", hint="create it first or write the sample elsewhere")
    timings: dict[str, float] = {}
    ent = model.build_entities(int(seed), float(scale), dd)
    conflicts = _case_type_conflicts(ent, quirk_counts(main_tables()["B_TblProceeding"], len(ent.procs["row"]), rates).get("case_type_conflict", 0), seed)
    timings["entities"] = time.perf_counter() - t0
    fys = list(range(volumes.FIRST_FY, int(volumes.fy_of(np.asarray([volumes.day(dd)]))[0]) + 1))
    metrics = truth.compute_truth(ent.cases, ent.procs, ent.apps, fys)
    timings["truth"] = time.perf_counter() - t0 - timings["entities"]
    _release_memory()
    folder = folder_name(dd)
    srcs = tables.sources(ent)
    total = sum(s.n for s in srcs)
    report = _progress(progress, total)
    z = ReleaseZip(out, folder, dd, compression)
    accts = {}
    try:
        for i, src in enumerate(srcs):
            keys = KeyPool(next_pk=10**9 + 10**8 * i, next_proc=int(ent.procs["IDNPROCEEDING"].max(initial=0)) + 10**7 * (i + 1), missing_cases=list(ent.missing_case_ids[:10000]) or [10**9 - 1])
            with z.open(main_tables()[src.name].file) as fh:
                accts[src.name] = write_table(src, int(seed), i, rates, keys, fh.write, lambda k, name=src.name: report(name, k))
            timings[src.name] = time.perf_counter() - t0 - sum(timings.values())
        accts["B_TblProceeding"].case_type_conflicts = conflicts
        accts["B_TblProceeding"].quirks["case_type_conflict"] = conflicts
        cont = {n: a.quarantined.get("continuation_line", 0) for n, a in accts.items()}
        counts = {n: a.rows_read - cont[n] for n, a in accts.items()}
        with z.open("Count.txt") as fh:
            fh.write("".join(f"{main_tables()[n].name}\t{c}\r\n" for n, c in counts.items()).encode("latin-1"))
        lk_files, lk_info = lookup_files(np.random.default_rng([int(seed), 3]))
        for name, raw in lk_files.items():
            with z.open(f"Lookup/{name}.csv") as fh:
                fh.write(raw)
        with z.open("README-SYNTHETIC.txt") as fh:
            fh.write(README.format(folder=folder, seed=seed, scale=scale, data_date=dd.isoformat()).replace("\n", "\r\n").encode("latin-1"))
        z.close()
    except BaseException:
        if out.exists():
            out.unlink()
        raise
    doc = {
        "synthetic": True, "seed": int(seed), "scale": float(scale), "data_date": dd.isoformat(), "folder": folder,
        "compression": compression, "quirk_rates": rates,
        "count_txt": "Count.txt counts the records EOIR exported: every data line except continuation-line fragments",
        "tables": {n: a.to_dict(counts[n]) for n, a in accts.items()},
        "lookups": lk_info,
        "metrics": metrics,
    }
    tp = truth_path(out)
    tp.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    quirks = {n: {k: v for k, v in a.quirks.items() if v} for n, a in accts.items()}
    return SampleInfo(path=str(out), truth_path=str(tp), folder=folder, data_date=dd.isoformat(), seed=int(seed), scale=float(scale),
                      compression=compression, tables={n: a.rows_read for n, a in accts.items()}, quirks=quirks,
                      elapsed_s=round(time.perf_counter() - t0, 3), timings={k: round(v, 3) for k, v in timings.items()})


def _case_type_conflicts(ent, k: int, seed: int) -> int:
    """Give ``k`` proceedings (changes of venue, transfers, open ones) a case type other than
    their case's; the truth decodes them with their own type, as the definitions say."""
    from immfacts.sample.model import CONFLICT_TYPE, classify_all

    p = ent.procs
    cand = np.flatnonzero(((p["kind"] == "CT") | (p["COMP_DATE"] < 0)) & np.isin(p["CASE_TYPE"], list(CONFLICT_TYPE)))
    if not k or not len(cand):
        return 0
    rng = np.random.default_rng([int(seed), 5])
    pick = np.sort(rng.choice(cand, min(k, len(cand)), replace=False))
    p["CASE_TYPE"] = p["CASE_TYPE"].copy()
    p["CASE_TYPE"][pick] = [CONFLICT_TYPE[t] for t in p["CASE_TYPE"][pick]]
    p["class"] = classify_all(p["CASE_TYPE"], p["DEC_CODE"], p["OTHER_COMP"])
    return len(pick)


def _release_memory() -> None:
    """Give the heap freed by the entity build back to the OS (glibc keeps it otherwise:
    ~30% of the entities' size)."""
    from immfacts.warehouse import libc_function

    trim = libc_function("malloc_trim")
    if trim is not None:  # (glibc only)
        trim(0)


def _progress(progress, total: int) -> Callable[[str, int], None]:
    done = [0]
    if progress is None:
        return lambda name, k: None
    if hasattr(progress, "add_task"):
        task = progress.add_task("writing sample release", total=total)

        def rich(name: str, k: int) -> None:
            progress.update(task, advance=k, description=f"writing {name}")

        return rich

    def cb(name: str, k: int) -> None:
        done[0] += k
        progress(name, done[0], total)

    return cb


from immfacts._callable import make_callable  # noqa: E402

make_callable(__name__, "write_sample")

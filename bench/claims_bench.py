"""Claim-checker benchmark: seconds per 1,000 words (warm) and the example article end to end.

The ~1,000-word text is ``examples/article.txt`` followed by filler sentences — ordinary
prose, some with numbers that are not claims about a catalogue statistic (dates, ages,
counts of people in a room) — so the extractor has real work on every sentence. Warm means
after one full check in the same process (sessions, lexicon and result caches filled), as in
a long-running web server. End to end is ``immfacts check examples/article.txt`` as a fresh
process: interpreter start, imports, extraction, computation and rendering.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import stats
from bench.measure import ROOT, run_child

ARTICLE = ROOT / "examples" / "article.txt"
AS_OF = "2024-06-04"
FILLER = [
    "Lawyers in the waiting room said the hearings often start late and end early.",
    "The judge, who has served on the bench for 11 years, declined to comment.",
    "Advocates gathered outside the courthouse on a cold morning in March.",
    "Some families travelled for 6 hours to attend a hearing that lasted ten minutes.",
    "The agency said it is hiring more staff and modernising its case management system.",
    "Critics argue that the figures are often quoted without the definitions behind them.",
    "A spokesperson pointed to a report published last spring.",
    "Interpreters are scarce for several languages, which delays many cases.",
    "The building on the corner has housed the court since 1998.",
    "Both parties agreed that better data would improve the debate.",
]


def words(text: str) -> int:
    """Whitespace-separated words."""
    return len(text.split())


def build_text(target_words: int = 1000, article: str | None = None) -> str:
    """The example article plus filler sentences, up to about ``target_words`` words."""
    text = article if article is not None else ARTICLE.read_text(encoding="utf-8")
    parts = [text.strip()]
    i = 0
    while words(" ".join(parts)) < target_words:
        parts.append(FILLER[i % len(FILLER)])
        i += 1
    return "\n\n".join(parts[:1] + [" ".join(parts[1:])]) if len(parts) > 1 else parts[0]


def run(warehouse: Path, repeats: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Warm seconds per 1,000 words in-process, and the CLI on the example article."""
    import immfacts

    text = build_text()
    n_words = words(text)
    t0 = time.perf_counter()
    first = immfacts.check(text, as_of=AS_OF, warehouse=str(warehouse))
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        immfacts.check(text, as_of=AS_OF, warehouse=str(warehouse))
        warm.append(time.perf_counter() - t0)
    claims = first.to_dict().get("claims", [])
    out: dict[str, Any] = {
        "warehouse": str(warehouse), "words": n_words, "claims_found": len(claims), "cold_s": cold,
        "warm_s": stats.summary(warm),
        "s_per_1000_words_warm": stats.summary([w / n_words * 1000 for w in warm]),
    }
    log(f"  claims: {n_words} words, {len(claims)} claims, warm median {out['warm_s']['median']:.3f} s "
        f"({out['s_per_1000_words_warm']['median']:.3f} s per 1,000 words)")
    cmd = [sys.executable, "-m", "immfacts", "check", str(ARTICLE), "--warehouse", str(warehouse),
           "--as-of", AS_OF, "--format", "json"]
    rec = run_child("check-example", cmd, env={"IMMFACTS_HOME": str(warehouse)})
    e2e: dict[str, Any] = {"wall_s": rec.wall_s, "cpu_s": rec.user_s + rec.sys_s, "peak_rss_mb": rec.peak_rss_mb, "exit_code": rec.exit_code,
                           "words": words(ARTICLE.read_text(encoding="utf-8"))}
    report = rec.result
    if report:
        verdicts: dict[str, int] = {}
        for c in report.get("claims", []):
            verdicts[c.get("verdict", "?")] = verdicts.get(c.get("verdict", "?"), 0) + 1
        e2e["claims"] = len(report.get("claims", []))
        e2e["verdicts"] = verdicts
        e2e["synthetic"] = report.get("synthetic")
    if rec.exit_code:
        e2e["error"] = rec.stderr_tail[-600:]
    out["example_end_to_end"] = e2e
    log(f"  claims: example article end to end {rec.wall_s:.2f} s (exit {rec.exit_code})")
    return out

"""Bounded load test of the web API: N concurrent clients for T seconds, on localhost only.

    .venv/bin/python bench/load_web.py                 # 50 clients, 30 s
    .venv/bin/python bench/load_web.py --clients 10 --duration 5 --warehouse ~/.local/share/immfacts

It starts ``immfacts serve`` as a separate process on a free 127.0.0.1 port (so the load
generator does not share the server's interpreter) and waits until it answers. A warm-up
pass then sends each fixed request once, in turn (its latencies are reported as
``cold``: the first visitor's wait). Then the clients run: each loops over a mix of metric
queries (``GET /api/metrics/{id}?…``: six fixed queries — ``metric_fixed``, answered from
the cache after the warm-up — plus receipts per court and fiscal year — ``metric_varied``,
mostly never asked before, so they measure computation queued behind the engine lock) and
claim checks (``POST /api/check``) until the time is up; requests in flight at the deadline
finish. It stops the server, prints requests, errors and p50/p95 latency per endpoint, then
one JSON line with the same numbers, and exits non-zero if any request failed. Not part of
``make test``.

Without ``--warehouse`` it uses the default warehouse when it holds a release, else builds
a SYNTHETIC sample warehouse (scale 0.001) under ``bench/work/load_web/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

HOST = "127.0.0.1"  # never anything else: this script must not load a remote server
ROOT = Path(__file__).resolve().parents[1]

METRIC_QUERIES = [
    "/api/metrics/eoir.receipts?period=FY2020",
    "/api/metrics/eoir.completions?period=FY2019..FY2021&by=fy",
    "/api/metrics/eoir.pending?period=2021-09-30&variant=all",
    "/api/metrics/eoir.asylum.grant_rate?period=FY2020..FY2023&variant=all",
    "/api/metrics/eoir.receipts?period=FY2020&by=court",
    "/api/metrics/cbp.encounters?period=FY2023",
]
CHECK_TEXTS = [
    "The current asylum backlog is more than 3.5 million cases.",
    "More than 350,000 asylum cases have been closed since 2022 without a decision on the merits.",
    "Border agents recorded about 2.9 million encounters nationwide in fiscal year 2024.",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def pick_warehouse(arg: str | None) -> Path:
    """The warehouse to serve: the argument, the default one if it has a release, or a new sample."""
    from immfacts.paths import default_home
    from immfacts.warehouse import Warehouse

    if arg:
        return Path(arg).expanduser()
    if Warehouse(default_home()).has_release():
        return default_home()
    work = ROOT / "bench" / "work" / "load_web"
    home = work / "home"
    if not Warehouse(home).has_release():
        import immfacts

        work.mkdir(parents=True, exist_ok=True)
        print(f"building a SYNTHETIC sample warehouse in {home} …", file=sys.stderr)
        immfacts.sample(work / "sample.zip", scale=0.001, seed=1)
        immfacts.ingest(work / "sample.zip", warehouse=home)
    return home


def start_server(warehouse: Path, port: int) -> subprocess.Popen:
    log = open(ROOT / "bench" / "work" / "load_web.server.log", "w")  # noqa: SIM115 - closed with the process
    cmd = [sys.executable, "-m", "immfacts", "serve", "--warehouse", str(warehouse), "--host", HOST, "--port", str(port)]
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with code {proc.returncode}; see bench/work/load_web.server.log")
        try:
            if httpx.get(base + "/api/releases", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not answer within 60 s")


def request_for(client: httpx.AsyncClient, n: int, extra: list[str]) -> tuple[str, httpx.Request]:
    """The n-th request of the mix: 1 in 3 a claim check, else a metric query."""
    if n % 3 == 0:
        body = {"text": CHECK_TEXTS[(n // 3) % len(CHECK_TEXTS)], "as_of": "2024-06-04"}
        return "check", client.build_request("POST", "/api/check", json=body)
    queries = METRIC_QUERIES + extra
    i = n % len(queries)
    kind = "metric_fixed" if i < len(METRIC_QUERIES) else "metric_varied"
    return kind, client.build_request("GET", queries[i])


async def send(client: httpx.AsyncClient, kind: str, req: httpx.Request, samples: list, errors: list) -> None:
    """Send one request; record its latency, and an error unless it is a 200 with ok: true."""
    t0 = time.perf_counter()
    try:
        r = await client.send(req)
        ok = r.status_code == 200 and r.json().get("ok") is True
        detail = f"{r.status_code} {r.text[:200]}"
    except (httpx.HTTPError, ValueError) as e:
        ok, detail = False, f"{type(e).__name__}: {e}"
    dt = time.perf_counter() - t0
    samples.append((kind, dt))
    if not ok:
        errors.append(f"{kind} {req.url}: {detail}")


async def client_loop(i: int, client: httpx.AsyncClient, deadline: float, extra: list[str],
                      samples: list, errors: list) -> None:
    """One client: its own walk through the request mix until the deadline."""
    n = i * 7
    while time.monotonic() < deadline:
        n += 1
        kind, req = request_for(client, n, extra)
        await send(client, kind, req, samples, errors)


async def court_queries(client: httpx.AsyncClient) -> list[str]:
    """Receipts per court and fiscal year: many distinct queries, most computed during the run."""
    r = await client.get("/api/metrics/eoir.receipts", params={"period": "FY2020", "by": "court"})
    courts = [row["court"] for row in r.json().get("rows", [])][:20]
    return [f"/api/metrics/eoir.receipts?period=FY{y}&where=court%3D{c}" for c in courts for y in range(2016, 2024)]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def run(base: str, clients: int, duration: float) -> dict:
    samples: list[tuple[str, float]] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    cold: list[tuple[str, float]] = []
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120.0) as client:
        for q in METRIC_QUERIES:  # warm-up: every fixed query and article once, in turn
            await send(client, "metric", client.build_request("GET", q), cold, errors)
        for text in CHECK_TEXTS:
            body = {"text": text, "as_of": "2024-06-04"}
            await send(client, "check", client.build_request("POST", "/api/check", json=body), cold, errors)
        extra = await court_queries(client)
        t0 = time.monotonic()
        deadline = t0 + duration
        await asyncio.gather(*(client_loop(i, client, deadline, extra, samples, errors) for i in range(clients)))
        elapsed = time.monotonic() - t0
    out: dict = {"clients": clients, "duration_s": round(elapsed, 1), "requests": len(samples),
                 "errors": len(errors), "requests_per_s": round(len(samples) / elapsed, 1),
                 "distinct_metric_queries": len(METRIC_QUERIES) + len(extra),
                 "cold": {"n": len(cold), "p50_ms": round(1000 * pct(sorted(d for _, d in cold), 50), 1),
                          "max_ms": round(1000 * max(d for _, d in cold), 1)}}
    for kind in ("metric_fixed", "metric_varied", "metric", "check", "all"):
        lat = sorted(d for k, d in samples if kind in ("all", k, k.split("_")[0]))
        out[kind] = {"n": len(lat), "p50_ms": round(1000 * pct(lat, 50), 1), "p95_ms": round(1000 * pct(lat, 95), 1),
                     "max_ms": round(1000 * max(lat), 1) if lat else None}
    out["first_errors"] = errors[:5]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds (at most 600)")
    ap.add_argument("--warehouse", default=None)
    args = ap.parse_args(argv)
    duration = min(max(args.duration, 1.0), 600.0)
    (ROOT / "bench" / "work").mkdir(parents=True, exist_ok=True)
    warehouse = pick_warehouse(args.warehouse)
    port = free_port()
    base = f"http://{HOST}:{port}"
    env_note = os.environ.get("IMMFACTS_ENGINE", "duckdb")
    proc = start_server(warehouse, port)
    try:
        wait_ready(base, proc)
        print(f"load: {args.clients} clients × {duration:.0f} s against {base} (warehouse {warehouse}, engine {env_note})",
              file=sys.stderr)
        result = asyncio.run(run(base, args.clients, duration))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    result["warehouse"] = str(warehouse)
    c = result["cold"]
    print(f"{'cold':>13}: {c['n']:6d} requests  p50 {c['p50_ms']:8.1f} ms  (warm-up, one at a time)  max {c['max_ms']} ms")
    for kind in ("metric_fixed", "metric_varied", "metric", "check", "all"):
        r = result[kind]
        print(f"{kind:>13}: {r['n']:6d} requests  p50 {r['p50_ms']:8.1f} ms  p95 {r['p95_ms']:8.1f} ms  max {r['max_ms']} ms")
    print(f"errors: {result['errors']}  ({result['requests_per_s']} requests/s over {result['duration_s']} s)")
    for e in result["first_errors"]:
        print("  " + e)
    print(json.dumps(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

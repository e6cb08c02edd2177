"""CLI commands of the sample stage: ``immfacts sample OUT.zip`` writes a SYNTHETIC release."""

from __future__ import annotations

from pathlib import Path

import typer

from immfacts.cli import common


def _rates(items: list[str]) -> dict[str, float]:
    from immfacts.errors import ImmfactsError

    out = {}
    for it in items:
        name, sep, val = it.partition("=")
        try:
            out[name.strip()] = float(val)
        except ValueError:
            raise ImmfactsError(f"--quirk-rate {it!r} is not NAME=RATE", hint="e.g. --quirk-rate overflow=1e-4") from None
        if not sep:
            raise ImmfactsError(f"--quirk-rate {it!r} is not NAME=RATE", hint="e.g. --quirk-rate overflow=1e-4")
    return out


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root app."""

    @app.command("sample")
    @common.handle_errors
    def sample(
        out: Path = typer.Argument(..., help="Zip to write (its truth goes to OUT.truth.json)."),
        scale: float = typer.Option(0.001, "--scale", help="1.0 ≈ the real release (12.7M cases); 0.001 runs in seconds."),
        seed: int = typer.Option(0, "--seed", help="Same seed, same arguments → byte-identical zip."),
        compression: str = typer.Option("deflate", "--compression", help="deflate, or deflate64 (needs 7-Zip)."),
        data_date: str = typer.Option("2026-07-08", "--data-date", help="Release date (YYYY-MM-DD): names the folder, ends the data."),
        quirk_rate: list[str] = typer.Option([], "--quirk-rate", help="Override a quirk class's per-row rate, NAME=RATE (repeatable)."),
        drift_from: Path | None = typer.Option(None, "--drift-from", help="Write a drifted next release of this sample zip instead."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Write a SYNTHETIC sample release in the real EOIR layout, with counted quirks and ground truth."""
        if drift_from is not None:
            from immfacts.sample import drift

            res = drift.write_drift_release(drift_from, out, seed=seed)
            if as_json:
                common.print_json(res.to_dict() if hasattr(res, "to_dict") else res)
            else:
                common.synthetic_banner()
                common.console.print(f"wrote drifted release {out}")
            return
        from immfacts.sample import write_sample

        rates = _rates(quirk_rate)
        if as_json:
            info = write_sample(out, scale=scale, seed=seed, compression=compression, quirk_rates=rates, data_date=data_date)
            common.print_json(info.to_dict())
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        common.synthetic_banner()
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} rows"), TimeElapsedColumn(), console=common.err_console) as prog:
            info = write_sample(out, scale=scale, seed=seed, compression=compression, quirk_rates=rates, data_date=data_date, progress=prog)
        render(info)

    return None


def render(info) -> None:
    """Print table sizes and quirk counts of a written sample."""
    from rich.table import Table

    t = Table(title=f"SYNTHETIC sample release {info.folder} ({info.compression}, {info.elapsed_s:.1f} s)")
    t.add_column("table")
    t.add_column("lines", justify="right")
    t.add_column("quirks")
    for name, n in info.tables.items():
        q = info.quirks.get(name, {})
        t.add_row(name, f"{n:,}", ", ".join(f"{k} {v}" for k, v in sorted(q.items())))
    common.console.print(t)
    common.console.print(f"zip: {info.path}\ntruth: {info.truth_path}")

"""The ``immfacts`` command line: one thin command per public function.

Each stage registers its commands from its own module (``cli/<stage>.py`` has a
``register(app)`` function). Commands hold no logic: they parse options, call the Python
API, and render the result. Library errors (:class:`immfacts.errors.ImmfactsError`) become
one clear message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from immfacts.cli import common

app = typer.Typer(
    name="immfacts",
    help="Reproducible U.S. immigration statistics from the EOIR case-data release, "
    "official reference figures, and a checker for the numbers in the news.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Stage modules, in the order of the data flow. Each exposes register(app).
_STAGES = ("sample", "ingest", "metrics", "reference", "claims", "web", "lifecycle", "demo")


def _register_all() -> None:
    import importlib

    for name in _STAGES:
        module = importlib.import_module(f"immfacts.cli.{name}")
        module.register(app)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    if version:
        from immfacts import __version__

        typer.echo(__version__)
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


_register_all()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        app(args=argv, standalone_mode=True)
    except common.ImmfactsError as e:  # pragma: no cover - commands normally catch it
        common.fail(e)
    except KeyboardInterrupt:
        common.err_console.print("[red]interrupted[/red] — nothing was changed")
        sys.exit(130)

"""Helpers shared by the CLI commands: consoles, error rendering, JSON output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from immfacts.errors import ImmfactsError

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def fail(e: ImmfactsError) -> None:
    """Print a user error as 'error: …' plus its hint, and exit with its code."""
    err_console.print(f"[bold red]error:[/bold red] {e.message}", highlight=False, soft_wrap=True)
    if e.hint:
        err_console.print(f"[yellow]hint:[/yellow] {e.hint}", highlight=False, soft_wrap=True)
    sys.exit(e.exit_code)


def handle_errors(func: F) -> F:
    """Decorator: turn library errors and Ctrl-C into clean exits."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ImmfactsError as e:
            fail(e)
        except KeyboardInterrupt:
            err_console.print("[red]interrupted[/red] — the previous state is unchanged")
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def print_json(obj: Any) -> None:
    """Machine-readable output on stdout (no Rich markup)."""
    typer.echo(json.dumps(obj, indent=2, default=str, ensure_ascii=False))


def synthetic_banner() -> None:
    err_console.print(
        "[bold black on yellow] SYNTHETIC [/bold black on yellow] computed from a generated "
        "sample release — illustrative, not real EOIR data",
        highlight=False,
    )

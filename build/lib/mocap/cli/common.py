"""What every command shares: the rich console (``-q`` silences it) and the progress bar."""
from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


def _console(args) -> Console:
    return Console(quiet=getattr(args, "quiet", False), stderr=False, highlight=False)


def _progress(console: Console):
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TimeElapsedColumn(), console=console, transient=True, disable=console.quiet)

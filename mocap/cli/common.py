"""What every command shares: the rich console (``-q`` silences it) and the progress bar."""
from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


def _console(args) -> Console:
    return Console(quiet=getattr(args, "quiet", False), stderr=False, highlight=False)


def _progress(console: Console):
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TimeElapsedColumn(), console=console, transient=True, disable=console.quiet)


def add_contacts_option(parser, what: str = "") -> None:
    """``--contacts auto|off``, the same on every command that makes motion."""
    parser.add_argument("--contacts", choices=["auto", "off"], default="auto",
                        help=f"{what}find where each foot is planted, hold it still on the floor there and (one camera) "
                             "anchor the root to it (auto, default), or not (off)")

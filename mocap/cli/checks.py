"""Every numeric command-line option checked before any work starts: a finite number in its range, or one
``error: mocap CMD: argument --opt: what is wrong and what is expected`` line and exit code 2.

:data:`RANGES` holds each option's range (per command where the same name means different things); the
parser's ``type=float`` / ``type=int`` options are given a checking type by :func:`check_numbers`, and a test
makes sure no numeric option is left without a range.
"""
from __future__ import annotations

import argparse
import sys

from ..core.options import INF, describe_range, in_range

# option -> (low, high, low included, high included); "cmd --opt" overrides "--opt". The options generated from a
# job's typed options (mocap.cli.options) carry their ranges from there and are not listed here.
RANGES: dict[str, tuple[float, float, bool, bool]] = {
    # view, render: the frame rate of a file that does not state its own; the frame shown; the picture's side, px
    "--fps": (0, 10_000, False, True), "--frame": (0, 1e12, True, True), "--size": (16, 16_384, True, True),
    # batch: worker processes and the CPUs a Ray task declares
    "--jobs": (1, 1024, True, True), "--cpus-per-task": (0, 1024, False, True),
    # lifter train: budget, seed, schedule, augmentation and batch shape
    "--minutes": (0, 100_000, False, True), "--seed": (-INF, INF, False, False), "--steps": (1, 1e9, True, True),
    "--lr": (0, 1, False, True), "--pose-aug": (0, 1, True, True), "--batch": (1, 100_000, True, True),
    "--outputs": (1, 10_000, True, True), "--frames": (1, 1e12, True, True),
    # board, calibrate: print resolution and the board's squares and markers
    "--dpi": (1, 2400, True, True), "--squares": (2, 200, True, True), "--square-mm": (0, 10_000, False, True),
    "--marker-mm": (0, 10_000, False, True),
}


def checked(kind: type, limits: tuple[float, float, bool, bool]):
    """An argparse ``type``: ``kind`` (int or float) parsed from the text, finite and within ``limits``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {'whole number' if kind is int else 'number'} "
                                             f"{describe_range(*limits)}, not {text!r}") from None
        if not in_range(value, limits):
            raise argparse.ArgumentTypeError(f"must be {'a whole number ' if kind is int else ''}"
                                             f"{describe_range(*limits)}, not {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    parse.limits = limits
    return parse


def check_numbers(parser: argparse.ArgumentParser, command: str = "") -> list[str]:
    """Give every ``type=float`` / ``type=int`` option of ``parser`` and its subcommands a checking type from
    :data:`RANGES`; returns the options that have none (a test keeps this empty)."""
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                missing += check_numbers(child, name)
        elif action.type in (int, float) and action.option_strings:
            opt = max(action.option_strings, key=len)
            limits = RANGES.get(f"{command} {opt}") or RANGES.get(opt)
            if limits is None:
                missing.append(f"{command} {opt}")
            else:
                action.type = checked(action.type, limits)
    return missing


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage dump): ``error: mocap CMD: what`` and exit code 2."""

    def error(self, message: str):
        print(f"error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)

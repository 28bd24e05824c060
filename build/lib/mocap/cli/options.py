"""Command-line options generated from the jobs' typed options (:mod:`mocap.core.options`): flag, default,
kind, range, choices and help come from the dataclass field, so the parser never restates a default."""
from __future__ import annotations

import argparse

from ..core.options import check_value, specs
from ..errors import MocapError


def _shown(default) -> str:
    return f"{default:g}" if isinstance(default, float) else str(default)


def _checking(cls, name: str):
    """An argparse ``type``: the text parsed and checked as ``cls``'s option ``name``."""
    default, spec = specs(cls)[name]

    def parse(text: str):
        value = text
        if spec.kind in (int, float) and spec.parse is None:
            try:
                value = spec.kind(text)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"expected a {'whole number' if spec.kind is int else 'number'}, not {text!r}") from None
        try:
            return check_value(cls, name, value)
        except MocapError as e:
            why = e.cause.removeprefix(f"{name} ").rsplit(", not ", 1)[0]
            shown = text if spec.kind in (int, float) else repr(text)
            raise argparse.ArgumentTypeError(f"{why}, not {shown}") from None

    parse.__name__ = getattr(spec.kind, "__name__", "value")
    parse.limits = spec.range  # what the hostile-input tests probe
    return parse


def add_options(parser: argparse.ArgumentParser, cls, *names: str, help: dict | None = None) -> None:
    """Add ``cls``'s options ``names`` to ``parser`` (``help``: per-command wording, ``{default}`` filled in)."""
    s = specs(cls)
    for name in names:
        default, spec = s[name]
        text = (help or {}).get(name, spec.help).replace("{default}", _shown(default))
        flag = spec.flag or "--" + name.replace("_", "-")
        flags = flag.split("|")
        if spec.kind is bool and spec.parse is None:
            parser.add_argument(*flags, dest=name, action="store_false" if default else "store_true", help=text or None)
            continue
        if spec.choices and spec.metavar is None:  # argparse lists them in the usage line
            kw = {"choices": spec.choices}
        elif spec.kind is not str or spec.choices or spec.check or spec.parse:
            kw = {"type": _checking(cls, name)}
        else:
            kw = {}
        metavar = spec.metavar or (None if "choices" in kw else flags[-1].lstrip("-").replace("-", "_").upper())
        parser.add_argument(*flags, dest=name, default=default, metavar=metavar, help=text or None, **kw)


def from_args(cls, args, **fixed):
    """``cls`` from the parsed ``args`` (the options it declares that the command has) and ``fixed`` values."""
    values = {n: getattr(args, n) for n in specs(cls) if n not in fixed and hasattr(args, n)}
    return cls(**fixed, **values)

"""Typed options: each job's options are one dataclass whose fields state, once, their default, kind, range,
choices and help (:func:`option`). The command line (``mocap.cli.options.add_options``) and the batch TOML
sections (``mocap.batch.config``) are generated from them, and every value — typed on a command line, read from
a TOML file or passed from Python — is checked by the same :func:`check_value`.

A range is ``(low, high, low included, high included)``; ``None`` is allowed where the default is ``None``.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import MocapError

INF = math.inf
Range = tuple[float, float, bool, bool]


@dataclass(frozen=True)
class Spec:
    """What the option is: ``kind`` (bool, int, float, str; a ``parse`` function for richer values), ``range``
    for numbers, ``choices`` for words, ``help`` (``{default}`` is replaced by the default as written),
    the command-line ``flag`` (default ``--name-with-dashes``) and ``metavar``; ``check`` a further test that
    returns an error message or ``None``."""

    kind: type = str
    help: str = ""
    range: Range | None = None
    choices: tuple | None = None
    flag: str | None = None
    metavar: str | None = None
    parse: Callable[[str], Any] | None = None
    check: Callable[[Any], str | None] | None = None


def option(default: Any = None, help: str = "", *, kind: type | None = None, range: Range | None = None,
           choices: tuple | None = None, flag: str | None = None, metavar: str | None = None,
           parse: Callable[[str], Any] | None = None, check: Callable[[Any], str | None] | None = None):
    """A dataclass field with its :class:`Spec` (``kind`` from the default when not given)."""
    if kind is None:
        kind = type(default) if default is not None else str
    spec = Spec(kind=kind, help=help, range=range, choices=tuple(choices) if choices else None, flag=flag,
                metavar=metavar, parse=parse, check=check)
    return dataclasses.field(default=default, metadata={"option": spec})


def specs(cls) -> dict[str, tuple[Any, Spec]]:
    """``{field name: (default, Spec)}`` of every option field of the dataclass ``cls``, in order."""
    out = {}
    for f in dataclasses.fields(cls):
        if "option" in f.metadata:
            out[f.name] = (f.default, f.metadata["option"])
    return out


def defaults(cls, names=None) -> dict:
    """``{name: default}`` of ``cls``'s options (``names``: only these, in that order)."""
    s = specs(cls)
    return {n: s[n][0] for n in (names or s)}


def describe_range(lo: float, hi: float, lo_in: bool, hi_in: bool) -> str:
    """``in [0, 1)``, ``> 0``, ``<= 5`` or ``a finite number``."""
    if hi == INF and lo == -INF:
        return "a finite number"
    if hi == INF:
        return f"{'>=' if lo_in else '>'} {lo:g}"
    if lo == -INF:
        return f"{'<=' if hi_in else '<'} {hi:g}"
    return f"in {'[' if lo_in else '('}{lo:g}, {hi:g}{']' if hi_in else ')'}"


def in_range(value: float, limits: Range) -> bool:
    lo, hi, lo_in, hi_in = limits
    return math.isfinite(value) and (lo < value or (lo_in and value == lo)) and (value < hi or (hi_in and value == hi))


def number_problem(value: Any, kind: type, limits: Range | None) -> str | None:
    """Why ``value`` is not a ``kind`` (int or float) within ``limits``, or ``None``."""
    whole = kind is int
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not float(value).is_integer()):
        return f"must be a {'whole number' if whole else 'number'}" + (f" {describe_range(*limits)}" if limits else "")
    if not math.isfinite(value):
        return "must be a finite number"
    if limits and not in_range(value, limits):
        return f"must be {'a whole number ' if whole else ''}{describe_range(*limits)}"
    return None


def problem(value: Any, default: Any, spec: Spec) -> str | None:
    """Why ``value`` is not acceptable for an option with this ``default`` and ``spec`` (``None``: it is)."""
    if value is None and default is None:
        return None
    if spec.choices is not None and value not in spec.choices:
        return f"must be one of {', '.join(map(str, spec.choices))}"
    if spec.kind in (int, float):
        why = number_problem(value, spec.kind, spec.range)
    elif spec.kind is bool:
        why = None if isinstance(value, bool) else "must be true or false"
    elif spec.kind is str and spec.parse is None:
        why = None if isinstance(value, str) else "must be text"
    else:
        why = None
    return why or (spec.check(value) if spec.check else None)


def check_value(cls, name: str, value: Any, where=None, label: str | None = None) -> Any:
    """``value`` for ``cls``'s option ``name`` if it is acceptable (a whole number given as 3.0 becomes 3), else
    one :class:`MocapError` naming ``label`` (default the name), the value and ``where`` (the file)."""
    default, spec = specs(cls)[name]
    if spec.parse is not None and isinstance(value, str):
        try:
            value = spec.parse(value)
        except MocapError as e:
            why = (spec.check(value) if spec.check else None) or e.cause
            raise MocapError(f"{label or name} {why}, not {value!r}", where) from None
    why = problem(value, default, spec)
    if why:
        raise MocapError(f"{label or name} {why}, not {value!r}", where)
    if spec.kind is int and value is not None and not isinstance(value, bool):
        value = int(value)
    return value


def check_options(obj, where=None) -> None:
    """Every option of the dataclass instance ``obj`` checked (:func:`check_value`)."""
    for name in specs(type(obj)):
        setattr(obj, name, check_value(type(obj), name, getattr(obj, name), where))


def from_mapping(cls, values: dict, where=None, section: str | None = None, **fixed):
    """``cls(**fixed, **values)`` with every value checked; an unknown key is an error listing the known ones."""
    known = specs(cls)
    label = (lambda n: f"{section}.{n}") if section else (lambda n: n)
    for k in values:
        if k not in known:
            raise MocapError(f"unknown option {label(k)} (known: {', '.join(known)})", where)
    checked = {k: check_value(cls, k, v, where, label(k)) for k, v in values.items()}
    return cls(**fixed, **checked)

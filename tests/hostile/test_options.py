"""Every numeric option of every command, given what users mistype: nan, inf, words, out-of-range values. Each
is one ``error: mocap CMD: argument --opt: ...`` line and exit code 2, before any work (cases generated from
the parser itself, so a new option cannot slip through unchecked)."""
import argparse
import math

import pytest

from mocap.cli.main import build_parser, main


def numeric_options():
    """(command, option, limits) for every checked numeric option of the parser."""
    out = []
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            for cmd, sub in action.choices.items():
                for a in sub._actions:
                    if a.option_strings and a.type is not None and getattr(a.type, "__name__", "") in ("int", "float"):
                        opt = max(a.option_strings, key=len)
                        out.append((cmd, opt, a.nargs, a.type.limits))
    return out


def bad_values(limits):
    lo, hi, lo_in, hi_in = limits
    vals = ["nan", "inf", "-inf", "abc", "1e400"]
    if math.isfinite(lo):
        vals.append(repr(lo - 1) if lo_in else repr(lo))
    if math.isfinite(hi):
        vals.append(repr(hi * 10 + 1))
    return vals


CASES = [(cmd, opt, nargs, v) for cmd, opt, nargs, lim in numeric_options() for v in bad_values(lim)]


def test_every_numeric_option_has_a_range():
    assert len(numeric_options()) >= 35
    for action in build_parser()._actions:  # none left with a bare int/float type
        if isinstance(action, argparse._SubParsersAction):
            for cmd, sub in action.choices.items():
                assert not [a.dest for a in sub._actions if a.type in (int, float)], cmd


@pytest.mark.parametrize("cmd,opt,nargs,value", CASES, ids=[f"{c} {o} {v}" for c, o, _, v in CASES])
def test_bad_number_is_one_error_line(cmd, opt, nargs, value, capsys):
    n = nargs if isinstance(nargs, int) else 1
    with pytest.raises(SystemExit) as e:
        main([cmd, opt, *([value] * n)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith(f"error: mocap {cmd}: argument {opt}") or err.startswith(f"error: mocap {cmd}: argument -"), err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["triangulate", "--fps", "29.97"], ["convert", "--fps", "59.94"],
                                  ["detect", "--stride", "2"], ["triangulate", "--min-confidence", "0"]])
def test_good_numbers_pass_the_check(argv, capsys):
    """Real values (NTSC rates, a zero threshold) are accepted; only the missing required arguments remain."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and "required" in err and argv[1] not in err, err


def test_count_of_cases():
    assert len(CASES) >= 200, len(CASES)

"""Command line: a thin layer over the API (argparse + rich; one module per command group). Errors
print one line and exit with code 2."""
from __future__ import annotations

import argparse
import sys
import warnings

from .. import runtime
from ..errors import MocapError
from .checks import Parser, check_numbers
from . import batch, calibrate, demo, lift, live, motion, triangulate, video, view


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="mocap", description="2D keypoints to animation-ready 3D.")
    sub = p.add_subparsers(dest="command", required=True)
    triangulate.add_commands(sub)   # triangulate
    motion.add_convert(sub)         # convert
    video.add_commands(sub)         # detect, video2bvh
    lift.add_commands(sub)          # lift, lifter
    live.add_commands(sub)          # live, blender-addon
    motion.add_commands(sub)        # smooth, info
    calibrate.add_commands(sub)     # board, calibrate
    view.add_commands(sub)          # view, render
    demo.add_commands(sub)          # demo
    batch.add_commands(sub)         # batch
    _add_verbose(p)
    check_numbers(p)
    return p


def _add_verbose(parser: argparse.ArgumentParser) -> None:
    """``--verbose`` on the program and on every (sub)command: shows third-party log output."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_verbose(child)
    parser.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show third-party log output (TF Lite, absl, Open3D/GLFW, warnings)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    loud = getattr(args, "verbose", False)
    runtime.set_verbose(loud)
    runtime.quiet_environment()
    if not loud:  # third-party deprecation and runtime warnings; our own still show
        warnings.filterwarnings("ignore", module=r"^(?!mocap\b)")
    try:
        with runtime.stop_on_signals():
            return args.func(args)
    except MocapError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except runtime.Terminated as e:  # SIGTERM / SIGHUP: outputs in progress were dropped, finished ones kept
        print(f"terminated ({e})", file=sys.stderr)
        return 128 + e.signum
    except RuntimeError as e:  # the signal's exception landed inside threading's lock code, which then failed
        stop = runtime.raised_by_signal(e)
        if stop is None:
            raise
        print(f"terminated ({stop})", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: not enough memory for this input (nothing was written)", file=sys.stderr)
        return 2
    except OSError as e:  # disk full, read-only folder, a path that is a folder: the file and the cause
        where = f"{e.filename}: " if e.filename else ""
        print(f"error: {where}{e.strerror or e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""``mocap convert``, ``mocap smooth`` and ``mocap info``: any 3D file to any other, cleaned, described."""
from __future__ import annotations

import numpy as np
from rich.table import Table

from ..errors import MocapError
from .common import _console
from .options import add_options, from_args


def cmd_convert(args) -> int:
    from ..io.outputs import animation_units
    from ..pipelines.options import ConvertOptions
    from ..pipelines.convert import convert_file
    from ..retarget.solve import Retargeted

    console = _console(args)
    res = convert_file(args.input, args.output, **from_args(ConvertOptions, args).kwargs())
    if isinstance(res, Retargeted):
        held = int(res.kept[:, :].any(axis=1).sum())
        console.print(f"wrote {args.output}: rig {res.rig.name}, {res.local.shape[0]} frames at {res.fps:g} fps, "
                      f"{animation_units(args.output, args.units or 'cm')}, Y-up; subject height {res.proportions.height:.2f} m"
                      + (f"; {held} frames held a joint's last good rotation" if held else ""), soft_wrap=True)
        for note in res.notes:
            console.print(f"note: {note}", soft_wrap=True)
    else:
        console.print(f"wrote {args.output}: {res.n_frames} frames, {len(res.names)} markers", soft_wrap=True)
    return 0


def cmd_smooth(args) -> int:
    from ..pipelines.options import SmoothOptions
    from ..pipelines.convert import smooth_file
    from ..smooth.metrics import bone_length_cv, jitter

    console = _console(args)
    params = {}
    for kv in args.param or []:
        k, _, v = kv.partition("=")
        try:
            params[k.strip()] = float(v)
        except ValueError:
            raise MocapError(f"--param {kv!r}: expected NAME=NUMBER") from None
    m, res = smooth_file(args.input, args.output, from_args(SmoothOptions, args, params=params))
    pos, spikes, filled = res.motion.positions, res.spikes, res.filled
    b = m.skeleton.rigid_bone_indices
    t = Table(title=f"{args.filter} smoothing")
    for col in ("", "before", "after"):
        t.add_column(col, justify="right")
    t.add_row("jitter (m/s^2)", f"{jitter(m.positions, m.fps):.2f}", f"{jitter(pos, m.fps):.2f}")
    if len(b):
        t.add_row("bone length CV (%)", f"{100 * np.nanmean(bone_length_cv(m.positions, b)):.2f}",
                  f"{100 * np.nanmean(bone_length_cv(pos, b)):.2f}")
    console.print(t)
    left = int((~np.isfinite(pos).all(-1)).sum())
    console.print(f"wrote {args.output}: {spikes} spikes removed, {int(filled.sum())} missing points filled, "
                  f"{left} left empty (gaps longer than {args.max_gap:g} s)", soft_wrap=True)
    return 0


def cmd_info(args) -> int:
    from ..io.describe import describe

    console = _console(args)
    for f in args.files:
        console.print(describe(f), soft_wrap=True)
    return 0


def add_convert(sub) -> None:
    from ..pipelines.options import ConvertOptions

    c = sub.add_parser("convert", help="convert between 3D formats (.trc .csv .npz .c3d .bvh); .bvh .glb .gltf .fbx outputs are retargeted to a rig")
    c.add_argument("input")
    c.add_argument("output")
    add_options(c, ConvertOptions, "rig", "units", "fps", "in_units", "height", "ground", "face_forward")
    c.add_argument("-q", "--quiet", action="store_true")
    c.set_defaults(func=cmd_convert)


def add_commands(sub) -> None:
    """smooth, info (convert: :func:`add_convert`, listed earlier in the help)."""
    from ..pipelines.options import SmoothOptions

    sm = sub.add_parser("smooth", help="remove spikes, fill short gaps and filter a 3D motion")
    sm.add_argument("input")
    sm.add_argument("-o", "--output", required=True)
    add_options(sm, SmoothOptions, "filter")
    sm.add_argument("--param", action="append", help="filter parameter NAME=VALUE, e.g. cutoff=6 (Hz)")
    add_options(sm, SmoothOptions, "max_gap", "hampel")
    sm.add_argument("-q", "--quiet", action="store_true")
    sm.set_defaults(func=cmd_smooth)

    i = sub.add_parser("info", help="describe any supported file")
    i.add_argument("files", nargs="+")
    i.set_defaults(func=cmd_info)

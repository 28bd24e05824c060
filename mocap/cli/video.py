"""``mocap detect`` and ``mocap video2bvh``: one video -> 2D keypoints, or -> an animated BVH."""
from __future__ import annotations

import argparse
import warnings

from rich.console import Console

from ..core.people import People
from ..io.outputs import animation_units
from ..pipelines.options import DetectOptions
from ..pipelines.options import VideoOptions
from .common import _console, _progress
from .options import add_options, from_args


def cmd_detect(args) -> int:
    from ..pipelines.detect import detect_people

    console = _console(args)
    with _progress(console) as prog:
        task = prog.add_task("detecting people", total=1)
        res = detect_people(args.video, args.output, from_args(DetectOptions, args),
                            lambda d, t: prog.update(task, completed=d, total=t))
    seen, T = res.seen, len(res.seen.frames)
    for note in res.notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    counts = seen.present().sum(0)
    console.print(f"wrote {res.output}: {T} frames at {seen.fps:g} fps, {len(seen.ids)} "
                  f"{'person' if len(seen.ids) == 1 else 'people'} (" + ", ".join(
                      f"p{i}: {100 * n / max(T, 1):.1f} %" for i, n in zip(seen.ids, counts)) + " of frames)",
                  soft_wrap=True)
    return 0


def cmd_video2bvh(args) -> int:
    _video_to_bvh(_console(args), args.video, args.output, from_args(VideoOptions, args), report=args.report)
    return 0


class _OldPerson(argparse.Action):
    """``--person ID`` (the old spelling): that person, now written ``--people pID``; accepted with a warning."""

    def __call__(self, parser, namespace, value, option_string=None):
        if not value.isdigit() or int(value) < 1:
            parser.error(f"argument --person: a person ID >= 1, not {value!r}")
        warnings.warn(f"--person {value} is now written --people p{value} (--person goes in a later release)",
                      FutureWarning, stacklevel=1)
        namespace.people = People.person(int(value))


def _video_to_bvh(console: Console, video, output, options, *, report=None) -> None:
    from ..pipelines.monocular import video_to_bvh
    from .lift import report_motion

    with _progress(console) as prog:
        task = prog.add_task("detecting people", total=1)
        res = video_to_bvh(video, output, options, lambda d, t: prog.update(task, completed=d, total=t))
    for note in res.notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    names = ", ".join(f"{p.name} (p{i})" for i, p in res.outputs)
    console.print(f"wrote {names}: rig {options.rig}, {res.animation.local.shape[0]} frames at "
                  f"{res.animation.fps:g} fps, {animation_units(output, options.units)}, Y-up" + (f"; preview {options.preview}" if options.preview else ""),
                  soft_wrap=True)
    report_motion(console, res.person.motion, report)


def add_commands(sub) -> None:
    de = sub.add_parser("detect", help="every person's 2D keypoints from a video, with IDs (BlazePose, bundled models, offline)")
    de.add_argument("video")
    de.add_argument("-o", "--output", required=True,
                    help="keypoints .npz (everyone: (T, P, J, 3) + IDs), .csv (the most present person), or a folder "
                         "for OpenPose JSON (everyone, person_id filled)")
    add_options(de, DetectOptions, "max_people", "stride", "resize", "start", "end", "hands")
    de.add_argument("-q", "--quiet", action="store_true")
    de.set_defaults(func=cmd_detect)

    vb = sub.add_parser("video2bvh", help="one video -> animated BVH, glTF or FBX (detect, 3D, smooth, retarget)")
    vb.add_argument("video")
    vb.add_argument("-o", "--output", required=True, help="the animation: .bvh, .glb (binary glTF), .gltf or .fbx")
    add_options(vb, VideoOptions, "rig", "people")
    vb.add_argument("--person", action=_OldPerson, metavar="ID", help=argparse.SUPPRESS)
    add_options(vb, VideoOptions, "preview", "method", "focal", "stride", "resize", "contacts", "hands",
                help={"focal": "camera focal length, px (lifter; default: larger image side)"})
    vb.add_argument("--report", default=None,
                    help="write a PNG of the (first) person's feet over time and when they are planted")
    vb.add_argument("-q", "--quiet", action="store_true")
    vb.set_defaults(func=cmd_video2bvh)

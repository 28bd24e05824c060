"""``mocap demo``: the bundled samples through the same steps and output as the commands."""
from __future__ import annotations

from pathlib import Path

from .common import _console, _progress
from .triangulate import _report_triangulation
from .video import _video_to_bvh

DEMO_DIR = Path(__file__).parents[1] / "data" / "demo"


def cmd_demo(args) -> int:
    """The bundled samples: 4 cameras' OpenPose keypoints -> refined demo.trc -> demo.bvh and demo.glb, and one
    video -> out.bvh + preview.mp4 (the main job); the same steps and output as the commands."""
    from ..pipelines.convert import convert_file
    from ..retarget.export import write_animation
    from ..pipelines.options import VideoOptions
    from ..pipelines.options import TriangulationJob
    from ..pipelines.multiview import run_triangulation

    console = _console(args)
    out = Path(args.output) / "demo.trc"
    job = TriangulationJob(DEMO_DIR / "calib.toml", [DEMO_DIR / "pose"], out, skeleton="body_25b", fps=60.0, smooth=True)
    with _progress(console) as prog:
        task = prog.add_task("triangulating", total=1)
        res = run_triangulation(job, lambda done, total: prog.update(task, completed=done, total=total))
    _report_triangulation(console, res, out)
    anim = convert_file(out, out.with_suffix(".bvh"), rig="mixamo")
    console.print(f"wrote {out.with_suffix('.bvh')}  (Mixamo rig, cm, Y-up: File > Import > Motion Capture "
                  f"(.bvh) in Blender, scale 0.01)", soft_wrap=True)
    write_animation(anim, out.with_suffix(".glb"))
    console.print(f"wrote {out.with_suffix('.glb')}  (the same animation as glTF, metres, with a mannequin: Unity, "
                  f"Unreal, three.js, Blender's File > Import > glTF)", soft_wrap=True)
    _video_to_bvh(console, DEMO_DIR / "cam01.mp4", Path(args.output) / "out.bvh",
                  VideoOptions(rig="mixamo", preview=str(Path(args.output) / "preview.mp4")))
    return 0


def add_commands(sub) -> None:
    d = sub.add_parser("demo", help="run the bundled multi-camera sample")
    d.add_argument("-o", "--output", default="demo_out", help="output folder (default demo_out)")
    d.add_argument("-q", "--quiet", action="store_true")
    d.set_defaults(func=cmd_demo)

"""``mocap lift`` and ``mocap lifter train|eval``: the learned monocular lifter."""
from __future__ import annotations

import numpy as np
from rich.table import Table

from ..pipelines.options import LiftOptions
from .common import _console
from .options import add_options, from_args


def cmd_lift(args) -> int:
    from ..pipelines.monocular import lift_keypoints

    console = _console(args)
    opts = from_args(LiftOptions, args)
    motion, notes = lift_keypoints(args.keypoints, args.output, opts)
    for note in notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    console.print(f"wrote {args.output}: {motion.n_frames} frames at {motion.fps:g} fps (lifter, camera focal "
                  f"{opts.focal or max(opts.width, opts.height):g} px)", soft_wrap=True)
    report_motion(console, motion, args.report)
    return 0


def report_motion(console, motion, report=None) -> None:
    """The share of frames each foot joint is planted (one camera's result) and, with ``report``, its plot."""
    if motion.contacts is not None:
        console.print("planted: " + ", ".join(f"{n} {p:.0f} %" for n, p in motion.planted_share().items())
                      + " of frames", soft_wrap=True)
    if report:
        from ..viz.plots import plot_motion
        console.print(f"wrote {plot_motion(motion, report)}: feet heights and contacts", soft_wrap=True)


def cmd_lifter(args) -> int:
    from ..lift.model import CAUSAL_WEIGHTS, WEIGHTS, load_model
    from ..lift.train import evaluate_validation, train
    from ..pipelines.lifter_eval import evaluate_real

    console = _console(args)
    if args.action == "train":
        card = train(args.data, args.output or (CAUSAL_WEIGHTS if args.causal else WEIGHTS), minutes=args.minutes, seed=args.seed,
                     causal=args.causal, steps=args.steps, pose_aug=args.pose_aug, init=args.init, lr=args.lr, norm=args.norm,
                     batch=args.batch, outputs=args.outputs, frames=args.frames, log=lambda m: console.print(m, soft_wrap=True))
        console.print(f"validation: {card['metrics']}", soft_wrap=True)
        return 0
    model, card = load_model(args.weights or WEIGHTS)
    t = Table(title="Validation (clips never trained on; 2D noise 3 px at f = 1000 px)")
    for col in ("clip", "MPJPE mm", "PA-MPJPE mm", "root depth mm"):
        t.add_column(col, justify="right")
    for r in evaluate_validation(model, args.data):
        t.add_row(r["clip"], f"{r['mpjpe_mm']:.1f}", f"{r['pa_mpjpe_mm']:.1f}", f"{r['root_depth_mm']:.0f}")
    console.print(t)
    _activity_table(console, model, args.data)
    if args.videos:
        t = Table(title="Real footage: PA-MPJPE vs the multi-view triangulation (mm)")
        for col in ("camera", "frames", "lifter", "MediaPipe world"):
            t.add_column(col, justify="right")
        rows = evaluate_real(model, args.videos, args.calib)
        for r in rows:
            t.add_row(r["camera"], str(r["frames"]), f"{r['lifter_pa_mpjpe_mm']:.1f}", f"{r['mediapipe_pa_mpjpe_mm']:.1f}")
        n = np.array([r["frames"] for r in rows], float)
        mean = {k: float((n * [r[k] for r in rows]).sum() / max(n.sum(), 1)) for k in ("lifter_pa_mpjpe_mm", "mediapipe_pa_mpjpe_mm")}
        t.add_row("all (frame-weighted)", str(int(n.sum())), f"{mean['lifter_pa_mpjpe_mm']:.1f}",
                  f"{mean['mediapipe_pa_mpjpe_mm']:.1f}")
        console.print(t)
    return 0


def _activity_table(console, model, data) -> None:
    """Whole held-out clips through the whole inference path, clean and detector-like 2D, per clip and activity."""
    from ..lift.data import load_clips, split
    from ..lift.train import DETECTOR_LIKE, evaluate_clips

    _, val = split(load_clips(data))
    clean = evaluate_clips(model, val, {"noise_px": 0.0})
    det = evaluate_clips(model, val, DETECTOR_LIKE)
    det_head = evaluate_clips(model, val, {**DETECTOR_LIKE, "head": True})
    t = Table(title="Held-out clips, whole inference path (PA-MPJPE mm, 14 joints without the head; 3 cameras each)")
    for col in ("clip", "activity", "clean 2D", "detector-like, no ears", "detector-like, ears", "MPJPE det."):
        t.add_column(col, justify="right")
    for c, d, h in zip(clean, det, det_head):
        t.add_row(c["clip"], c["activity"], f"{c['pa_mm']:.1f}", f"{d['pa_mm']:.1f}", f"{h['pa_mm']:.1f}", f"{d['mpjpe_mm']:.1f}")
    for act in sorted({r["activity"] for r in det}):
        pick = [i for i, r in enumerate(det) if r["activity"] == act]
        t.add_row(f"[bold]{act}[/]", "", *(f"{np.mean([rows[i]['pa_mm'] for i in pick]):.1f}" for rows in (clean, det, det_head)),
                  f"{np.mean([det[i]['mpjpe_mm'] for i in pick]):.1f}")
    other = [i for i, r in enumerate(det) if r["activity"] != "walk"]
    if other:
        t.add_row("[bold]mean, not walking[/]", "", *(f"{np.mean([rows[i]['pa_mm'] for i in other]):.1f}"
                                                       for rows in (clean, det, det_head)),
                  f"{np.mean([det[i]['mpjpe_mm'] for i in other]):.1f}")
    console.print(t)


def add_commands(sub) -> None:
    li = sub.add_parser("lift", help="one camera's 2D keypoints -> 3D (learned lifter) -> .bvh/.glb/.fbx/.trc/...")
    li.add_argument("keypoints", help="keypoints .npz/.csv, COCO .json or an OpenPose JSON folder")
    li.add_argument("-o", "--output", required=True, help="an animation (.bvh .glb .gltf .fbx, retargeted to --rig) or "
                                                         "the joints (.trc .csv .npz .c3d)")
    add_options(li, LiftOptions, "skeleton", "fps", "focal", "width", "height", "rig", "live", "weights", "contacts",
                help={"focal": "focal length, px (default: larger image side)"})
    li.add_argument("--report", default=None, help="write a PNG of the feet over time and when they are planted")
    li.add_argument("-q", "--quiet", action="store_true")
    li.set_defaults(func=cmd_lift)

    lt = sub.add_parser("lifter", help="train or evaluate the monocular lifter")
    lt.add_argument("action", choices=["train", "eval"])
    lt.add_argument("--data", default="../shared/data/mocap", help="motion capture folder (BVH)")
    lt.add_argument("--minutes", type=float, default=40.0)
    lt.add_argument("--seed", type=int, default=0)
    lt.add_argument("--steps", type=int, default=None, help="train this many steps (deterministic) instead of --minutes")
    lt.add_argument("--causal", action="store_true", help="train the live variant (no look-ahead)")
    lt.add_argument("--init", default=None, help="fine-tune from these weights (keeps their architecture and normalisation)")
    lt.add_argument("--frames", type=int, choices=[27, 81, 243], default=None,
                    help="receptive field, frames at 30 fps (default: the --init weights' own, else 27; a longer one "
                         "than --init's starts from their answers)")
    lt.add_argument("--norm", choices=["robust", "rms"], default=None,
                    help="input normalisation (default: robust from scratch, the --init weights' own when fine-tuning)")
    lt.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (cosine schedule; default 2e-3)")
    lt.add_argument("--pose-aug", type=float, default=0.5,
                    help="share of training samples given new poses: trunk lean, limbs turned (default 0.5)")
    lt.add_argument("--batch", type=int, default=64, help="windows per step (default 64)")
    lt.add_argument("--outputs", type=int, default=16,
                    help="frames each window answers for (window = receptive field + outputs - 1; default 16)")
    lt.add_argument("-o", "--output", default=None,
                    help="weights file to write, also every 2000 steps while training (default: the shipped one)")
    lt.add_argument("--weights", default=None)
    lt.add_argument("--videos", nargs="*", help="eval on real footage: synchronised videos + --calib")
    lt.add_argument("--calib", default=None)
    lt.add_argument("-q", "--quiet", action="store_true")
    lt.set_defaults(func=cmd_lifter)

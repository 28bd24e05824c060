"""Training and evaluation of the lifter (``mocap lifter train|eval``). CPU, deterministic with a seed."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..core.rotations import procrustes_align
from ..io.atomic import atomic_path
from .data import Sampler, load_clips, split
from .joints import HEAD_RULE, LIFT_JOINTS, joints_from_motion, lift_inputs
from .model import (DILATIONS, ROLLS_DEG, WEIGHTS, _torch, build_model, dilations_for, ensemble_views, load_model,
                    merge_views, model_frames, receptive_field)


def procrustes_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``(N, J, 3)`` -> ``(N,)`` mean joint error after the best similarity transform (PA-MPJPE)."""
    return np.linalg.norm(procrustes_align(pred, gt) - gt, axis=-1).mean(1)


def validation_set(val_clips, n: int = 4096, seed: int = 123, noise_px: float = 3.0, *, focal: float = 1000.0,
                   causal: bool = False, frames: int | None = None):
    """Fixed validation batch from clips never trained on: sigma = ``noise_px`` at ``focal`` px; windows of
    ``frames`` (default: the shipped receptive field)."""
    return Sampler(val_clips, frames or receptive_field(), seed=seed, focal=focal, causal=causal).batch(
        n, train=False, noise_px=noise_px)


def run_model(model, inp: np.ndarray) -> np.ndarray:
    torch = _torch()
    model.eval()
    x = torch.from_numpy(np.ascontiguousarray(inp.reshape(len(inp), inp.shape[1], -1).transpose(0, 2, 1)))
    with torch.no_grad():
        return model(x)[:, :, 0].numpy().astype(float)


def evaluate_model(model, inp, tgt, depth, *, ensemble: bool = True) -> dict:
    """MPJPE, PA-MPJPE (root-relative) and root depth error, mm, of the window centres (as
    :func:`mocap.lift.model.predict` answers: with its test-time ensemble unless ``ensemble`` is off)."""
    rolls, mirror = (ROLLS_DEG, True) if ensemble else ((0.0,), False)
    views, R = ensemble_views(inp, rolls, mirror)
    out = run_model(model, views.reshape((-1,) + inp.shape[1:]).astype(np.float32))
    rel, d = merge_views(out.reshape(len(views), len(inp), -1), R, mirror)
    gt_rel = tgt - tgt[:, :1]
    return {"mpjpe_mm": 1000 * float(np.linalg.norm(rel - gt_rel, axis=-1).mean()),
            "pa_mpjpe_mm": 1000 * float(procrustes_errors(rel, gt_rel).mean()),
            "root_depth_mm": 1000 * float(np.abs(d - depth).mean())}


def train(root: str | Path, out: str | Path = WEIGHTS, minutes: float = 40.0, seed: int = 0, *, batch: int = 64,
          lr: float = 2e-3, causal: bool = False, steps: int | None = None, pose_aug: float = 0.5,
          own_rig: float = 0.2, init: str | Path | None = None, norm: str | None = None, prefetch: bool = True,
          outputs: int = 16, speed: tuple[float, float] | None = (0.7, 1.4), checkpoint_steps: int = 2000,
          frames: int | None = None, log=print) -> dict:
    """Train for ``steps`` (deterministic for a seed) or, without, for a wall-time budget of
    ``minutes`` (cosine schedule sized from the speed of the first 50 steps);
    ``causal`` trains the live variant (answers for the last frame of its window); ``pose_aug`` is
    the share of samples given new poses (:meth:`mocap.lift.data.Sampler.new_poses`); ``init``: start from
    these weights (architecture kept; input normalisation too unless ``norm``: ``"robust"`` or ``"rms"``);
    ``prefetch``: batches made by a second process meanwhile (same batches, same order); ``outputs``: frames
    each sample's window answers for (a window of receptive field + outputs - 1: more supervision per
    augmented sample for little more compute); ``speed``: playback speed range of the training motion
    (log-uniform; the same moves done faster or slower, as other people and activities do them);
    ``checkpoint_steps``: the weights so far are written to ``out`` this often (a stopped run keeps them);
    ``frames``: the receptive field (27, 81, 243; default: the ``init`` weights' own, else 27): a longer one
    fine-tuned from shorter weights starts from their answers (:func:`warm_start`)."""
    torch = _torch()
    torch.manual_seed(seed)
    torch.set_num_threads(1 if prefetch else 2)
    train_clips, val_clips = split(load_clips(root))
    model, config, start = _initial_model(init, frames, causal, norm)
    frames = receptive_field(config["dilations"])
    sampler = Sampler(train_clips, frames, seed=seed, causal=causal, pose_aug=pose_aug, own_rig=own_rig,
                      outputs=outputs, speed=speed)
    val = validation_set(val_clips, causal=causal, frames=frames)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    t0 = time.time()
    step, total, sched = 0, steps, None
    if steps:
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr * 0.01)
    batches = _prefetched(sampler, batch) if prefetch else iter(lambda: sampler.batch(batch), None)
    card = {"data": [c.name for c in train_clips], "validation": [c.name for c in val_clips], "joints": LIFT_JOINTS,
            "fps": 30, "receptive_field": frames, "batch": batch, "outputs": outputs, "seed": seed,
            "causal": causal, "pose_aug": pose_aug, "own_rig": own_rig, "norm": config["norm"], "lr": lr,
            "speed": list(speed) if speed else None, "init": Path(init).name if init else None,
            "init_norm": start.norm if start is not None else None, "sources": sorted({c.source for c in train_clips}),
            "augmentation": AUGMENTATION, "joint_definitions": HEAD_RULE}
    while True:
        loss = _train_step(torch, model, opt, next(batches))
        step += 1
        if step == 50 and not steps:
            per = (time.time() - t0) / 50
            total = int(minutes * 60 / per)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - 50, eta_min=lr * 0.01)
            log(f"{per:.3f} s/step: {total} steps in {minutes:g} min")
        elif sched is not None:
            sched.step()
        done = total is not None and step >= total
        save = done or (checkpoint_steps and step % checkpoint_steps == 0)
        m = evaluate_model(model, *val) if step % 1000 == 0 or save else None  # one pass: log line and card
        if step % 1000 == 0:
            log(_progress_line(step, time.time() - t0, loss, m))
        if save:
            card.update(steps=step, minutes=round((time.time() - t0) / 60, 1), finished=done, metrics=m)
            _write_weights(torch, model, {"config": config, "card": card}, out)
        if done:
            return card


def _initial_model(init, frames: int | None, causal: bool, norm: str | None):
    """The model training starts from, its config and the ``init`` weights (or None): see :func:`train`."""
    start = load_model(init, fuse=False)[0] if init else None
    dilations = dilations_for(frames) if frames else getattr(start, "dilations", DILATIONS)
    config = {"causal": causal, "norm": norm or (start.norm if start is not None else "robust"),
              "dilations": list(dilations)}
    model = build_model(**config)
    if start is not None:
        warm_start(model, start)
    return model, config, start


def warm_start(model, start) -> None:
    """``model`` takes ``start``'s weights: every tensor the two share (same name and shape: the input layer,
    the first blocks, the output). Blocks ``start`` lacks (a longer receptive field) keep their fresh weights
    with their last BatchNorm scaled to 0.01: they begin adding next to nothing to the residual stream, so
    training starts from ``start``'s answers rather than from scratch."""
    own = model.state_dict()
    shared = {k: v for k, v in start.state_dict().items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(shared, strict=False)
    for blk in model.blocks[len(start.blocks):]:
        blk[5].weight.data.mul_(0.01)  # Conv, BN, ReLU, Dropout, Conv, *BN*, ReLU, Dropout


def _progress_line(step: int, seconds: float, loss: float, m: dict) -> str:
    return (f"step {step} ({seconds:.0f} s) train {loss * 1000:.1f} mm; validation MPJPE {m['mpjpe_mm']:.1f} "
            f"PA-MPJPE {m['pa_mpjpe_mm']:.1f} root depth {m['root_depth_mm']:.0f} mm")


AUGMENTATION = ("random window, playback speed, canonical body (stature 1.50-1.95 m, bone lengths 0.75-1.3 each; an "
                "own_rig share on the clip's own proportions), mirror, yaw, camera distance 2.5-8 m, height 0.2-3 m, "
                "focal 600-2000 px, roll sd 10 deg, 2D noise 0-5 px, 0-5 % outliers anywhere in the image at "
                "normal confidence, 2 % gross errors, 5 % dropped, head missing for the whole window in 25 %, "
                "one limb in 10 %; then the inference cleaning (mocap.lift.clean); new poses for a pose_aug "
                "share (trunk leant up to 20 deg, arms turned up to 35 deg, legs up to 25 deg)")


def _write_weights(torch, model, meta: dict, out: str | Path) -> None:
    """The model's weights (half precision: the shipped file is half the size, the answers the same to
    0.1 mm) with ``meta`` (config, card), atomically: a reader never sees a half-written file."""
    state = {k: v.half() if v.dtype == torch.float32 else v for k, v in model.state_dict().items()}
    with atomic_path(Path(out)) as tmp:
        torch.save({"state": state, **meta}, tmp)


def _batch_worker(sampler, size: int, queue) -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # the parent stops it: no handler of its own
        signal.signal(sig, signal.SIG_DFL)
    while True:
        queue.put(sampler.batch(size))


def _prefetched(sampler, size: int, depth: int = 4):
    """Batches of ``size`` from ``sampler``, made ahead by one daemon process (forked: it has the clips
    already): the same sequence as calling ``sampler.batch(size)`` in turn."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    queue = ctx.Queue(depth)
    worker = ctx.Process(target=_batch_worker, args=(sampler, size, queue), daemon=True)
    worker.start()
    try:
        while True:
            yield queue.get()
    finally:
        worker.terminate()


def _train_step(torch, model, opt, batch) -> float:
    """One optimiser step on a batch ``(inputs (B, W, 15, 3), targets (B, [K,] 15, 3), root depth (B, [K]))``
    (K frames per sample, each answered by its own receptive field): root-relative joint error plus
    0.1 x log-depth error. Returns the joint error, m."""
    model.train()
    inp, tgt, depth = batch
    J = len(LIFT_JOINTS)
    x = torch.from_numpy(np.ascontiguousarray(inp.reshape(len(inp), inp.shape[1], -1).transpose(0, 2, 1)))
    tgt, depth = tgt.reshape(-1, J, 3), depth.reshape(-1)  # (B * K, J, 3), sample-major as the output below
    y = torch.from_numpy(tgt - tgt[:, :1])
    out = model(x).transpose(1, 2).reshape(len(tgt), -1)
    rel = out[:, : J * 3].reshape(-1, J, 3)
    loss = torch.linalg.norm(rel - rel[:, :1] - y, dim=-1).mean()
    loss_depth = (out[:, -1] - torch.log(torch.from_numpy(depth))).abs().mean()
    opt.zero_grad()
    (loss + 0.1 * loss_depth).backward()
    opt.step()
    return loss.item()


def evaluate_validation(model, root: str | Path, n: int = 2048) -> list[dict]:
    """Per validation clip (never trained on): MPJPE, PA-MPJPE, root depth error (2D noise 3 px at 1000 px)."""
    _, val_clips = split(load_clips(root))
    causal = getattr(model, "causal", False)
    rows = []
    for c in val_clips:
        m = evaluate_model(model, *validation_set([c], n=n // 4, causal=causal, frames=model_frames(model)))
        rows.append({"clip": c.name, **m})
    m = evaluate_model(model, *validation_set(val_clips, n=n, causal=causal, frames=model_frames(model)))
    rows.append({"clip": "all validation", **m})
    return rows


def compare_on_footage(model, kp, dets, rig) -> list[dict]:
    """Per camera, PA-MPJPE (mm) of the lifter on that camera's 2D alone and of MediaPipe's world
    landmarks, both against the multi-view triangulation of the same detections (same frames).
    ``kp`` ``(C, T, 33, 3)`` MediaPipe keypoints, ``dets`` their detections, ``rig`` the calibration."""
    from .model import lift
    from ..triangulate import triangulate

    tri = triangulate(kp, rig)
    ref = joints_from_motion(tri.motion)  # (T, 15, 3) Y-up world
    ok = np.isfinite(ref).all(axis=(1, 2))
    rows = []
    for c, (cam, det) in enumerate(zip(rig, dets)):
        ours = lift(lift_inputs(kp.data[c], kp.skeleton), cam.K, kp.fps, model)
        mp = joints_from_motion(det.world)
        good = ok & np.isfinite(ours).all(axis=(1, 2)) & np.isfinite(mp).all(axis=(1, 2))
        rows.append({"camera": cam.name, "frames": int(good.sum()),
                     "lifter_pa_mpjpe_mm": 1000 * float(procrustes_errors(ours[good], ref[good]).mean()),
                     "mediapipe_pa_mpjpe_mm": 1000 * float(procrustes_errors(mp[good], ref[good]).mean())})
    return rows


def view_clip(X: np.ndarray, yaw_deg: float, rng, noise_px: float = 3.0, *, outliers: float = 0.0, missing: float = 0.0,
              head: bool | str = True, f: float = 1000.0, distance: float = 5.0):
    """A clip ``X (T, 15, 3)`` (metres, Y-up) seen by a camera ``distance`` m away, 1.2 m high, turned
    ``yaw_deg`` about it (f px, 1280 x 720): camera-frame truth ``(T, 15, 3)``, detector-like 2D ``(T, 15, 3)``
    px (sigma ``noise_px``, a share of ``outliers`` anywhere in the image at normal confidence, ``missing``
    joints dropped; the head: seen (``True``), never (``False``), or ``"nose"``: no ears, so the lifter's
    head input is the nose, 9 cm in front of ear level, at 0.7 confidence as :func:`~mocap.lift.joints.head_input`
    gives it) and the intrinsics ``K``."""
    a = np.radians(yaw_deg)
    R = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    X = (X - X[:, :1].mean(0) * [1, 0, 1]) @ R.T
    Xc = X * [1, -1, -1] + [0, 1.2, distance]
    seen = Xc.copy()
    h = LIFT_JOINTS.index("head")
    if head == "nose":
        right = X[:, LIFT_JOINTS.index("right_shoulder")] - X[:, LIFT_JOINTS.index("left_shoulder")]
        fwd = np.cross(right, [0.0, 1.0, 0.0])  # Y-up: facing = right x up
        fwd /= np.maximum(np.linalg.norm(fwd, axis=-1, keepdims=True), 1e-9)
        seen[:, h] = (X[:, h] + 0.09 * fwd) * [1, -1, -1] + [0, 1.2, distance]
    K = np.array([[f, 0, 640], [0, f, 360], [0, 0, 1]])
    uv = seen[..., :2] / seen[..., 2:] * f + [640, 360] + rng.normal(0, noise_px, Xc.shape[:-1] + (2,))
    conf = rng.uniform(0.6, 1.0, uv.shape[:-1])
    if head == "nose":
        conf[:, h] *= 0.7
    out = rng.random(conf.shape) < outliers
    uv[out] = rng.uniform([0, 0], [1280, 720], (int(out.sum()), 2))
    drop = rng.random(conf.shape) < missing
    if head is False:
        drop[:, h] = True
    uv[drop], conf[drop] = np.nan, 0.0
    return Xc, np.concatenate([uv, conf[..., None]], -1), K


DETECTOR_LIKE = {"noise_px": 3.0, "outliers": 0.02, "missing": 0.02, "head": "nose"}


def evaluate_clips(model, clips, conditions: dict | None = None, yaws=(0.0, 60.0, 135.0), *, seed: int = 0,
                   fps: float = 30.0, rays: float | None = None) -> list[dict]:
    """Whole clips through the whole inference path (:func:`mocap.lift.model.lift`: cleaning, resampling,
    ensemble) from cameras at each of ``yaws``, 2D as ``conditions`` says (:func:`view_clip`; default
    :data:`DETECTOR_LIKE`: sigma 3 px, 2 % outliers anywhere at normal confidence, 2 % missing, no ears),
    filmed at ``fps`` (the 30 fps clip resampled to it: 25, 29.97, 59.94, ... as real cameras give); ``rays``:
    as :func:`mocap.lift.model.lift` takes it (default: the weights' own).
    Per clip: activity, MPJPE and PA-MPJPE (mm, root-relative, over the 14 joints without the head and over
    all 15)."""
    from ..core.motion import resample_array
    from .data import activity
    from .joints import FPS
    from .model import lift

    cond = DETECTOR_LIKE if conditions is None else conditions
    body = [j for j, n in enumerate(LIFT_JOINTS) if n != "head"]
    rows = []
    for c in clips:
        rng = np.random.default_rng(seed)
        errs = {"pa": [], "pa15": [], "mpjpe": []}
        X = c.joints
        if abs(fps - FPS) > 1e-9:
            X = resample_array(X, np.arange(len(X)) / FPS, np.arange(0, (len(X) - 1) / FPS + 1e-9, 1 / fps))
        for yaw in yaws:
            Xc, kp, K = view_clip(X, yaw, rng, **cond)
            out = lift(kp, K, fps, model, rays=rays)
            rel, gt = out - out[:, :1], Xc - Xc[:, :1]
            errs["pa"].append(procrustes_errors(rel[:, body], gt[:, body]))
            errs["pa15"].append(procrustes_errors(rel, gt))
            errs["mpjpe"].append(np.linalg.norm(rel - gt, axis=-1)[:, body].mean(1))
        rows.append({"clip": c.name, "activity": activity(c.name), "frames": len(c.joints),
                     **{f"{k}_mm": 1000 * float(np.concatenate(v).mean()) for k, v in errs.items()}})
    return rows

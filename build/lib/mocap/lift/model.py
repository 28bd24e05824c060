"""The monocular lifter: a dilated temporal convolution network (torch), 2D -> 3D with root depth.

Input: a sequence of :data:`mocap.lift.joints.LIFT_JOINTS` keypoints as normalised image coordinates
(x/f, y/f) and confidence ``(T, 15, 3)``; output: camera-frame 3D ``(T, 15, 3)`` metres, i.e. the
root-relative pose plus the pelvis position (depth predicted, x/y from the pelvis' 2D ray).
Receptive field 27 frames at 30 fps (the shipped weights' own, in their config); sequences are padded (mirrored in time; causal
weights: the first frame repeated) so every frame gets an answer.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import MocapError
from ..core.motion import resample_array
from ..core.camera import normalized, toward_rays
from ..core.rotations import roll_matrices
from .clean import clean_keypoints
from .joints import FLIP, FPS, LIFT_JOINTS, constant_bones

WEIGHTS = Path(__file__).parents[1] / "models" / "lifter.pt"
CAUSAL_WEIGHTS = Path(__file__).parents[1] / "models" / "lifter_causal.pt"  # live variant: no look-ahead
DILATIONS = (1, 3, 9)
# test-time ensemble (see predict): the camera as it is and mirrored. Rolled views (+-20 deg, 4 views) gained
# 1-2 mm on the Pose2Sim demo but lost 0.4-0.8 mm on the held-out activities, at half the speed
ROLLS_DEG = (0.0,)
# each joint's x/y is then pulled toward the ray through its 2D (depth kept; mocap.core.camera.toward_rays), by this
# much: the network's answers miss their own 2D by more than a detector does. Offline the 2D is first smoothed with
# its neighbouring detections (Gaussian, sigma RAY_SMOOTH frames: the detector's own noise, frame by frame, at any
# frame rate); causal answers take each frame's 2D as it is (no later frame), so they lean on it less.
# Held-out activities, detector-like 2D: offline 47.2 -> 42.9 mm PA-MPJPE, causal 52.0 -> 49.6 (README)
RAY_WEIGHT, RAY_WEIGHT_CAUSAL, RAY_SMOOTH = 0.75, 0.5, 1.0
CHUNK = 2048  # output frames per network pass: the activations stay in cache (about 2x faster on a long sequence)


def _torch():
    try:
        import torch
    except ImportError:
        raise MocapError("the lifter needs torch==2.13.0 (pip install 'mocap-pipeline[lift]')") from None
    return torch


def receptive_field(dilations=DILATIONS) -> int:
    """Frames one answer sees: ``1 + 2 * sum(dilations)`` (27 for the default 1, 3, 9)."""
    return 1 + 2 * sum(dilations)


def dilations_for(frames: int) -> tuple[int, ...]:
    """The dilations 1, 3, 9, ... whose receptive field is ``frames`` (27, 81 or 243)."""
    d = [1]
    while receptive_field(d) < frames:
        d.append(d[-1] * 3)
    if receptive_field(d) != frames:
        raise MocapError(f"a receptive field of {frames} frames is not 3 ** k (27, 81, 243)")
    return tuple(d)


def model_frames(model) -> int:
    """The receptive field of a built or loaded lifter, frames."""
    return receptive_field(getattr(model, "dilations", DILATIONS))


def normalise_2d(x):
    """Torch ``(B, J * 3, W)`` (x/f, y/f, conf per joint) -> ``(B, J * 3 + 3, W)``: each frame's joints
    centred on their confidence-weighted mean and divided by their RMS spread (the pose, free of
    where and how large the person is in the image), then the centre (2) and log spread (1), which
    carry the position and the distance."""
    torch = _torch()
    B, C, W = x.shape
    x = x.reshape(B, C // 3, 3, W)
    uv, c = x[:, :, :2], x[:, :, 2:3]
    vis = (c > 0).to(x.dtype)
    n = vis.sum(1, keepdim=True).clamp(min=1.0)
    centre = (uv * vis).sum(1, keepdim=True) / n
    d = (uv - centre) * vis
    spread = torch.sqrt((d * d).sum((1, 2), keepdim=True) / n + 1e-8)
    pose = torch.cat([d / spread, c], 2).reshape(B, C, W)
    return torch.cat([pose, centre[:, 0], torch.log(spread[:, 0])], 1)


def normalise_2d_robust(x, smooth: int = 9):
    """Like :func:`normalise_2d` but one wrong joint cannot rescale the pose: each frame is centred on the
    per-coordinate *median* of its joints and divided by the median joint distance to that centre, itself
    smoothed by a running median over ``smooth`` frames (edges replicated). The centre (2) and log size (1)
    follow as channels. ``(B, J * 3, W)`` -> ``(B, J * 3 + 3, W)``."""
    torch = _torch()
    B, C, W = x.shape
    x = x.reshape(B, C // 3, 3, W)
    uv, c = x[:, :, :2], x[:, :, 2:3]
    vis = c > 0
    p = torch.where(vis, uv, torch.full_like(uv, float("nan")))
    centre = torch.nanmedian(p, dim=1, keepdim=True).values  # (B, 1, 2, W)
    centre = torch.nan_to_num(centre, nan=0.0)
    dist = torch.linalg.norm(p - centre, dim=2)  # (B, J, W), NaN where missing
    size = torch.nanmedian(dist, dim=1).values  # (B, W)
    h = smooth // 2
    padded = torch.cat([size[:, :1].expand(B, h), size, size[:, -1:].expand(B, h)], 1)
    size = torch.nanmedian(padded.unfold(1, smooth, 1), dim=-1).values
    size = torch.nan_to_num(size, nan=1.0).clamp(min=1e-4)[:, None, None]  # (B, 1, 1, W)
    rel = ((uv - centre) / size).clamp(-8.0, 8.0)  # a wrong joint the cleaning missed stays bounded
    pose = torch.cat([torch.where(vis, rel, torch.zeros_like(uv)), c], 2).reshape(B, C, W)
    return torch.cat([pose, centre[:, 0], torch.log(size[:, 0])], 1)


NORMALISERS = {"rms": normalise_2d, "robust": normalise_2d_robust}


def build_model(channels: int = 256, dropout: float = 0.1, causal: bool = False, norm: str = "rms",
                *, dilations=DILATIONS):
    """TCN over :func:`normalise_2d` inputs: Conv1d(k=3) with ``dilations`` (default 1, 3, 9: receptive field
    R = 27), residual blocks, BatchNorm. ``(B, 15 * 3, W) -> (B, 15 * 3 + 1, W - R + 1)``: root-relative
    joints (m) and log root depth. Symmetric windows answer for the centre frame; ``causal`` ones
    for the last frame (live use: no look-ahead, no latency beyond the frame itself). ``norm``: how inputs
    are normalised, ``"rms"`` (:func:`normalise_2d`, the first weights) or ``"robust"`` (:func:`normalise_2d_robust`)."""
    torch = _torch()
    normalise = NORMALISERS[norm]
    nn = torch.nn
    J = len(LIFT_JOINTS)

    class TCN(nn.Module):
        def __init__(self):
            super().__init__()
            self.causal = causal
            self.norm = norm
            self.dilations = tuple(dilations)
            self.inp = nn.Sequential(nn.Conv1d(J * 3 + 3, channels, 3, bias=False), nn.BatchNorm1d(channels),
                                     nn.ReLU(), nn.Dropout(dropout))
            self.blocks = nn.ModuleList(nn.Sequential(
                nn.Conv1d(channels, channels, 3, dilation=d, bias=False), nn.BatchNorm1d(channels), nn.ReLU(),
                nn.Dropout(dropout), nn.Conv1d(channels, channels, 1, bias=False), nn.BatchNorm1d(channels),
                nn.ReLU(), nn.Dropout(dropout)) for d in self.dilations[1:])
            self.out = nn.Conv1d(channels, J * 3 + 1, 1)

        def forward(self, x):
            h = self.inp(normalise(x))
            for blk, d in zip(self.blocks, self.dilations[1:]):
                h = (h[:, :, 2 * d:] if self.causal else h[:, :, d:-d]) + blk(h)
            return self.out(h)

    return TCN()


def load_model(path: str | Path = WEIGHTS, fuse: bool = True):
    """The shipped (or given) weights and their model card; with ``fuse`` the BatchNorms are folded
    into the convolutions (:func:`fuse_batchnorm`; same answers, faster)."""
    torch = _torch()
    path = Path(path)
    if not path.exists():
        raise MocapError("lifter weights not found", path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        model = build_model(**ckpt.get("config", {}))
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ckpt["state"].items()})
    except Exception as e:  # a foreign or damaged file: say which and why, not a torch traceback
        raise MocapError(f"not a lifter weights file ({type(e).__name__}: {str(e).splitlines()[0][:200]})", path) from None
    model.eval()
    return (fuse_batchnorm(model) if fuse else model), ckpt.get("card", {})


def fuse_batchnorm(model):
    """An eval-mode TCN with each BatchNorm folded into the convolution before it: the same answers
    (to float rounding) in fewer passes over the activations. For inference only."""
    torch = _torch()
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for seq in [model.inp, *model.blocks]:
        for i in range(len(seq) - 1):
            if isinstance(seq[i], torch.nn.Conv1d) and isinstance(seq[i + 1], torch.nn.BatchNorm1d):
                seq[i], seq[i + 1] = fuse_conv_bn_eval(seq[i], seq[i + 1]), torch.nn.Identity()
    return model


def ensemble_views(seq: np.ndarray, rolls_deg=ROLLS_DEG, mirror: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The same 2D seen by other cameras: ``(..., J, 3)`` (x/f, y/f, conf) -> ``(V, ..., J, 3)`` turned
    about the optical axis (camera roll, each of ``rolls_deg``) and, with ``mirror``, each also
    mirrored (x -> -x, left <-> right); and ``(V, 3, 3)`` each view's camera roll (for :func:`merge_views`)."""
    Rz = roll_matrices(np.radians(np.asarray(rolls_deg, float)))
    base = [seq] + ([seq[..., FLIP, :] * np.array([-1, 1, 1], seq.dtype)] if mirror else [])
    views = np.empty((len(base) * len(Rz),) + seq.shape, seq.dtype)
    for i, b in enumerate(base):  # a few views, each vectorised over everything else
        for k, R in enumerate(Rz):
            v = views[i * len(Rz) + k]
            v[..., 0] = R[0, 0] * b[..., 0] + R[0, 1] * b[..., 1]
            v[..., 1] = R[1, 0] * b[..., 0] + R[1, 1] * b[..., 1]
            v[..., 2] = b[..., 2]
    return views, np.tile(Rz, (len(base), 1, 1))


def merge_views(out: np.ndarray, rolls: np.ndarray, mirror: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Network outputs for :func:`ensemble_views` ``(V, ..., J * 3 + 1)`` -> root-relative joints
    ``(..., J, 3)`` m in the real camera's frame (each view turned and mirrored back, then averaged)
    and root depth ``(...)`` m (geometric mean)."""
    J = len(LIFT_JOINTS)
    rel = out[..., : J * 3].reshape(out.shape[:-1] + (J, 3))
    rel = rel - rel[..., :1, :]
    rel = rel @ rolls.reshape((len(rolls),) + (1,) * (rel.ndim - 3) + (3, 3))  # row vectors: x @ R = R^T x
    if mirror:
        n = len(rolls) // 2
        rel[n:] = rel[n:][..., FLIP, :] * [-1, 1, 1]
    return rel.mean(0), np.exp(out[..., -1].mean(0))


def predict(model, seq: np.ndarray, rolls_deg=ROLLS_DEG, mirror: bool = True, *, pad: bool = True
            ) -> tuple[np.ndarray, np.ndarray]:
    """``(T, J, 3)`` (x/f, y/f, conf) at 30 fps -> root-relative 3D ``(T, J, 3)`` m and root depth ``(T,)`` m.
    With ``pad`` every frame gets an answer: the ends are padded by the sequence mirrored in time about its
    first and last frames (plausible motion, unlike a frozen frame: -0.3 mm PA-MPJPE on the held-out activities),
    or, for causal weights, by the first frame repeated (no answer depends on a later frame).
    Without ``pad`` the ends are not padded: ``T`` >= the receptive field gives answers for its last
    ``T - R + 1`` frames (``R`` = :func:`model_frames`; causal) or its middle ones (live use: one window in, the newest frame out).

    A test-time ensemble: the network lifts the sequence as seen by cameras rolled by each of
    ``rolls_deg`` (default: not rolled) and, with ``mirror``, also mirrored (:func:`ensemble_views`, one
    batched pass); the answers, mapped back to this camera, are averaged (see the README for what each
    view gains). Long sequences run in pieces of
    :data:`CHUNK` frames (each with its receptive field around it), all views of a piece in one batch."""
    torch = _torch()
    rf, causal = model_frames(model) - 1, getattr(model, "causal", False)
    before, after = (rf, 0) if causal else (rf // 2, rf // 2)
    if not pad:
        if len(seq) <= rf:
            raise MocapError(f"predict without padding needs more than {rf} frames, not {len(seq)}")
        before = after = 0
    T = len(seq) - (0 if pad else rf)
    edge = "edge" if causal else "reflect"  # a causal answer never sees a later frame
    seq = np.pad(seq, ((before, after), (0, 0), (0, 0)), mode=edge).astype(np.float32)
    views, rolls = ensemble_views(seq, rolls_deg, mirror)  # (V, T + pad, J, 3)
    inp = torch.from_numpy(np.ascontiguousarray(views.reshape(len(views), len(seq), -1).transpose(0, 2, 1)))
    with torch.no_grad():
        out = torch.cat([model(inp[:, :, s:s + CHUNK + rf]) for s in range(0, T, CHUNK)], 2)
    out = out.numpy().transpose(0, 2, 1)  # (V, T, J * 3 + 1)
    rel, depth = merge_views(out, rolls.astype(np.float32), mirror)
    return rel.astype(float), depth.astype(float)


def resample_keypoints(seq: np.ndarray, t_src: np.ndarray, t_to: np.ndarray) -> np.ndarray:
    """``(T, J, 3)`` keypoints (x, y, confidence; confidence 0 = missing) at times ``t_src`` ->
    ``(T', J, 3)`` at ``t_to``, linearly between the two source samples around each new time, per
    joint, and only where both are present (or the new time falls on a present sample): a missing
    joint is never interpolated towards its placeholder, it stays missing (confidence 0, x = y = 0)."""
    T = len(seq)
    t_to = np.clip(t_to, t_src[0], t_src[-1])
    i = np.clip(np.searchsorted(t_src, t_to, side="right") - 1, 0, T - 2)
    frac = ((t_to - t_src[i]) / (t_src[i + 1] - t_src[i]))[:, None, None]
    a, b = seq[i], seq[i + 1]
    ok = ((a[..., 2:] > 0) | (frac >= 1 - 1e-9)) & ((b[..., 2:] > 0) | (frac <= 1e-9))
    out = (1 - frac) * a + frac * b
    return np.where(ok, out, 0.0)


def smooth_2d(xy: np.ndarray, seen: np.ndarray, sigma: float) -> np.ndarray:
    """``(T, J, 2)`` image points smoothed over time by a Gaussian of ``sigma`` frames using only the frames where
    ``seen (T, J)`` (normalised convolution: a missing sample neither counts nor drags its neighbours)."""
    from scipy.ndimage import gaussian_filter1d

    if sigma <= 0:
        return xy
    w = seen.astype(float)[..., None]
    num = gaussian_filter1d(np.where(w > 0, xy, 0.0) * w, sigma, axis=0, mode="nearest")
    den = gaussian_filter1d(w, sigma, axis=0, mode="nearest")
    return np.where(den > 1e-6, num / np.maximum(den, 1e-6), xy)


def ray_weight(model, rays: float | None = None) -> float:
    """How far :func:`lift` pulls joints toward their 2D rays: ``rays``, else the default for these weights."""
    if rays is not None:
        if not 0.0 <= float(rays) <= 1.0:
            raise MocapError(f"rays is how far joints move toward their 2D rays, 0 to 1, not {rays}")
        return float(rays)
    return RAY_WEIGHT_CAUSAL if getattr(model, "causal", False) else RAY_WEIGHT


def lift(kp_px: np.ndarray, K: np.ndarray, fps: float, model=None, *, clean: bool = True, bones: bool | None = None,
         rays: float | None = None) -> np.ndarray:
    """Lift one camera's keypoints ``(T, 15, 3)`` (x px, y px, confidence) with intrinsics ``K`` to
    camera-frame 3D ``(T, 15, 3)`` metres (OpenCV axes: x right, y down, z forward). With ``clean`` the
    2D is first cleaned at its own frame rate (:func:`mocap.lift.clean.clean_keypoints`: outlier joints
    rejected relative to the person's size, gaps up to 0.5 s filled), as in training; with ``bones`` each
    bone keeps one length over the sequence (:func:`mocap.lift.joints.constant_bones`; default: for the
    offline weights, not the causal ones, whose frames never depend on later ones). Last, each seen joint is
    pulled toward the ray through its 2D by ``rays`` (0-1; default :data:`RAY_WEIGHT` for offline weights, the 2D
    smoothed over :data:`RAY_SMOOTH` frames first, :data:`RAY_WEIGHT_CAUSAL` for causal ones; 0: the network's answer
    as it is): the depth is the network's, the direction the detector's."""
    model = model if model is not None else load_model()[0]
    if clean:
        kp_px, _ = clean_keypoints(kp_px, fps)
    T = len(kp_px)
    xy = normalized(kp_px, K)
    conf = np.where(np.isfinite(xy).all(-1), kp_px[..., 2], 0.0)
    seq = np.concatenate([np.where(conf[..., None] > 0, np.nan_to_num(xy), 0.0), conf[..., None]], -1)
    t_src = np.arange(T) / fps
    resample = T > 1 and abs(fps - FPS) > 1e-6
    t_model = np.arange(0, t_src[-1] + 1e-9, 1.0 / FPS) if resample else t_src
    if resample:
        seq = resample_keypoints(seq, t_src, t_model)
    rel, depth = predict(model, seq)
    if bones or (bones is None and not getattr(model, "causal", False)):
        rel = constant_bones(rel)
    root = np.concatenate([seq[:, 0, :2] * depth[:, None], depth[:, None]], -1)
    X = rel + root[:, None]
    X = resample_array(X, t_model, t_src) if resample else X
    return pull_to_rays(model, X, xy, conf, rays=rays)


def pull_to_rays(model, X: np.ndarray, xy: np.ndarray, conf: np.ndarray, *, rays: float | None = None) -> np.ndarray:
    """Lifted camera-frame joints ``X (T, J, 3)`` m pulled toward the rays through their 2D ``xy (T, J, 2)``
    (x/f, y/f; NaN or anything where ``conf (T, J)`` is 0: those joints stay), by :func:`ray_weight` (depth
    kept: :func:`mocap.core.camera.toward_rays`); for offline weights the 2D is smoothed over
    :data:`RAY_SMOOTH` frames first, causal ones use each frame's own. The rule :func:`lift` and the live
    stream share."""
    w = ray_weight(model, rays)
    if w == 0:
        return X
    seen = conf > 0
    xy = smooth_2d(xy, seen, 0.0 if getattr(model, "causal", False) else RAY_SMOOTH)
    return toward_rays(X, np.nan_to_num(xy), np.where(seen, w, 0.0))

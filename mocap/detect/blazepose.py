"""BlazePose run directly: MediaPipe's bundled person detector and landmark model on a TFLite runtime.

MediaPipe 0.10.21 ships two models (Apache-2.0) inside its wheel, and ``ai-edge-litert`` (Apache-2.0, PyPI)
executes them; nothing is downloaded:

- ``pose_detection.tflite`` finds **every** person in a 224 x 224 letterboxed image: 2 254 anchors, each a
  box and 4 alignment points (hip centre, a point fixing the body's size and direction, shoulder centre, ...);
- ``pose_landmark_full.tflite`` gives 33 landmarks (+ 6 auxiliary ones) of **one** person inside a rotated
  square region of interest (ROI), resampled to 256 x 256, plus a presence score and a 64 x 64 heatmap.

This is the BlazePose pipeline of MediaPipe's own graphs (SSD anchors, weighted non-maximum suppression,
ROI from the alignment points scaled 1.25, landmarks refined on the heatmap, the next frame's ROI from the
auxiliary landmarks), with what the legacy solution cannot do: any number of people, each followed through
its own ROI, and a detector that also looks at image tiles so that small, distant people are found.

Conventions: images ``(H, W, 3)`` uint8 RGB; pixel coordinates x right, y down; a :class:`Roi` is a rotated
square in pixels; keypoints ``(33, 3)`` = x px, y px, visibility (0-1); world landmarks ``(33, 3)`` metres,
hip-centred, MediaPipe axes.
"""
from __future__ import annotations

from pathlib import Path
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import MocapError
from ..runtime import native_quiet, quiet_environment

DETECT_SIZE, LANDMARK_SIZE, HEATMAP_SIZE = 224, 256, 64
# BlazePose world landmarks: metres, origin between the hips, x to the image's right, y down,
# z away from the camera. To Y-up (z towards the camera): (x, -y, -z).
MP_WORLD_TO_YUP = np.diag([1.0, -1.0, -1.0])
ROI_SCALE = 1.25  # the alignment circle's square, enlarged (MediaPipe's pose ROI)


@dataclass(frozen=True)
class Roi:
    """A rotated square: centre ``(cx, cy)`` px, side ``size`` px, ``angle`` radians (the body's up
    direction turned to the image's up)."""

    cx: float
    cy: float
    size: float
    angle: float

    def corners(self) -> np.ndarray:
        """``(4, 2)`` px: top-left, top-right, bottom-right, bottom-left of the square as the crop sees it."""
        u = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]]) * self.size
        return u @ _rot(self.angle).T + [self.cx, self.cy]


def _rot(a: float) -> np.ndarray:
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def roi_from_points(start: np.ndarray, end: np.ndarray, scale: float = ROI_SCALE) -> Roi:
    """The ROI of two alignment points ``(2,)`` px: centre at ``start`` (hip centre), side twice their
    distance times ``scale``, turned so that ``end`` lies straight above ``start`` in the crop."""
    d = end - start
    angle = np.pi / 2 - np.arctan2(-d[1], d[0])
    angle = (angle + np.pi) % (2 * np.pi) - np.pi
    return Roi(float(start[0]), float(start[1]), float(2 * np.hypot(*d) * scale), float(angle))


def crop_roi(rgb: np.ndarray, roi: Roi, n: int) -> np.ndarray:
    """``(n, n, 3)``: the rotated square ``roi`` of ``rgb`` resampled to ``n`` x ``n`` px (black outside the image)."""
    src = roi.corners()[:3].astype(np.float32)
    dst = np.array([[0, 0], [n, 0], [n, n]], np.float32)
    return cv2.warpAffine(rgb, cv2.getAffineTransform(src, dst), (n, n), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)


def from_crop(uv: np.ndarray, roi: Roi) -> np.ndarray:
    """``(K, 2)`` points normalised in a crop of ``roi`` (0-1, x right, y down) -> image px."""
    return (uv - 0.5) * roi.size @ _rot(roi.angle).T + [roi.cx, roi.cy]


def ssd_anchors() -> np.ndarray:
    """``(2254, 2)`` anchor centres of the detector, normalised to its 224 x 224 input (strides 8, 16 and
    three layers of 32 merged: 2, 2 and 6 anchors per cell; fixed anchor size)."""
    out = []
    for stride, per_cell in ((8, 2), (16, 2), (32, 6)):
        n = DETECT_SIZE // stride
        y, x = np.mgrid[0:n, 0:n]
        c = np.stack([(x + 0.5) / n, (y + 0.5) / n], -1).reshape(-1, 1, 2)
        out.append(np.repeat(c, per_cell, 1).reshape(-1, 2))
    return np.concatenate(out)


def weighted_nms(boxes: np.ndarray, points: np.ndarray, scores: np.ndarray, iou: float = 0.3):
    """MediaPipe's weighted non-maximum suppression: ``boxes (N, 4)`` (x0, y0, x1, y1), ``points
    (N, K, 2)``, ``scores (N,)`` -> the kept groups, each the score-weighted mean of the detections
    overlapping its best one by more than ``iou``: ``(M, 4)``, ``(M, K, 2)``, ``(M,)`` best scores."""
    order = np.argsort(-scores)
    boxes, points, scores = boxes[order], points[order], scores[order]
    area = np.prod(np.maximum(boxes[:, 2:] - boxes[:, :2], 0), -1)
    left = np.ones(len(scores), bool)
    kb, kp, ks = [], [], []
    for i in range(len(scores)):  # a handful of groups per image
        if not left[i]:
            continue
        lo = np.maximum(boxes[i, :2], boxes[:, :2])
        hi = np.minimum(boxes[i, 2:], boxes[:, 2:])
        inter = np.prod(np.maximum(hi - lo, 0), -1)
        group = left & (inter / np.maximum(area[i] + area - inter, 1e-12) > iou)
        w = scores[group] / scores[group].sum()
        kb.append(w @ boxes[group])
        kp.append(np.einsum("n,nkd->kd", w, points[group]))
        ks.append(scores[i])
        left &= ~group
    if not ks:
        return np.zeros((0, 4)), np.zeros((0,) + points.shape[1:]), np.zeros(0)
    return np.array(kb), np.array(kp), np.array(ks)


def tile_rects(W: int, H: int, tiles: int = 2) -> list[tuple[int, int, int, int]]:
    """Overlapping squares ``(x0, y0, side, side)`` covering a ``W`` x ``H`` image: with ``tiles`` >= 1
    squares of the shorter side along the longer one, with 2 also half-size squares over the whole image
    (about 30 % overlap between neighbours)."""
    s = min(W, H)
    out = []
    for side in ([s] if tiles == 1 else [s, s // 2] if tiles >= 2 else []):
        nx = int(np.ceil(W / side * 1.3)) if W > side else 1
        ny = int(np.ceil(H / side * 1.3)) if H > side else 1
        out += [(int(x), int(y), side, side) for y in np.linspace(0, H - side, ny) for x in np.linspace(0, W - side, nx)]
    return out


def shrink(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``img (H, W, C)`` averaged down to ``size`` ``(w, h)`` px: an area (box) average by the largest whole
    factor first, then the area resize of what is left (at most 2x). The same anti-aliasing as one
    ``INTER_AREA`` resize, about 3x faster on a 1080p frame (OpenCV's whole-factor path is the fast one)."""
    f = min(img.shape[1] // size[0], img.shape[0] // size[1])
    if f >= 2:
        img = cv2.resize(img, (img.shape[1] // f, img.shape[0] // f), interpolation=cv2.INTER_AREA)
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


MODELS = Path(__file__).resolve().parents[1] / "models" / "blazepose"  # shipped with the package (README there)


def _model_path(name: str) -> str:
    """A BlazePose model shipped in ``mocap/models/blazepose`` (never downloaded, mediapipe not needed)."""
    path = MODELS / name
    if not path.is_file():
        raise MocapError("model file missing from the installed package (reinstall mocap-pipeline)", path)
    return str(path)


def _interpreter(path: str, threads: int):
    quiet_environment()
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise MocapError("the multi-person detector needs the TFLite runtime ai-edge-litert "
                         "(pip install 'mocap-pipeline[video]')") from None
    with native_quiet():
        it = Interpreter(model_path=path, num_threads=threads)
        it.allocate_tensors()
    return it


class BlazePose:
    """The two BlazePose models on one CPU runtime. :meth:`detect` finds people (ROIs) in an image,
    :meth:`landmarks` gives one person's keypoints inside a ROI and the ROI to use on the next frame."""

    def __init__(self, min_detection: float = 0.5, threads: int = 2):
        self.min_detection = min_detection
        self._det = _interpreter(_model_path("pose_detection.tflite"), threads)
        self._lmk = _interpreter(_model_path("pose_landmark_full.tflite"), threads)
        self._anchors = ssd_anchors()
        d_out = {o["name"]: o["index"] for o in self._det.get_output_details()}
        l_out = {o["name"]: o["index"] for o in self._lmk.get_output_details()}
        self._d_in, self._d_box, self._d_score = self._det.get_input_details()[0]["index"], d_out["Identity"], d_out["Identity_1"]
        self._l_in = self._lmk.get_input_details()[0]["index"]
        self._l_pts, self._l_flag, self._l_heat, self._l_world = (l_out[k] for k in ("Identity", "Identity_1", "Identity_3", "Identity_4"))

    # -- detection ------------------------------------------------------------------------------------
    def detect(self, rgb: np.ndarray, tiles: int = 0) -> list[tuple[Roi, float]]:
        """People in ``rgb``: ROIs with their detection scores, best first, from the whole image and the
        :func:`tile_rects` squares (``tiles``: 0 none, 1 squares of the shorter side, 2 also half-size
        ones: distant people are too small for a 224-pixel view of the whole frame)."""
        H, W = rgb.shape[:2]
        found = [self._detect_rect(rgb, r) for r in [(0, 0, W, H)] + tile_rects(W, H, tiles)]
        return self._rois(*(np.concatenate(x) for x in zip(*found)))

    def detect_rect(self, rgb: np.ndarray, rect: tuple[int, int, int, int]) -> list[tuple[Roi, float]]:
        """People in one rectangle ``(x0, y0, w, h)`` px of ``rgb`` (one detector call): ROIs in image px."""
        return self._rois(*self._detect_rect(rgb, rect))

    @staticmethod
    def _rois(boxes, points, scores):
        b, p, sc = weighted_nms(boxes, points, scores)
        return [(roi_from_points(p[i, 0], p[i, 1]), float(sc[i])) for i in range(len(sc))]

    def _detect_rect(self, rgb, rect):
        x0, y0, w, h = rect
        crop = rgb[y0:y0 + h, x0:x0 + w]
        s = DETECT_SIZE / max(w, h)
        nw, nh = max(1, int(round(w * s))), max(1, int(round(h * s)))
        px, py = (DETECT_SIZE - nw) // 2, (DETECT_SIZE - nh) // 2
        img = np.zeros((DETECT_SIZE, DETECT_SIZE, 3), np.float32)
        img[py:py + nh, px:px + nw] = shrink(crop, (nw, nh)).astype(np.float32) / 127.5 - 1.0
        self._det.set_tensor(self._d_in, img[None])
        self._det.invoke()
        raw = self._det.get_tensor(self._d_box)[0]
        logit = np.clip(self._det.get_tensor(self._d_score)[0, :, 0], -100, 100)
        keep = logit >= np.log(self.min_detection / (1 - self.min_detection))
        raw, score, anc = raw[keep], 1 / (1 + np.exp(-logit[keep])), self._anchors[keep]
        c = raw[:, :2] / DETECT_SIZE + anc
        half = raw[:, 2:4] / DETECT_SIZE / 2
        pts = raw[:, 4:12].reshape(-1, 4, 2) / DETECT_SIZE + anc[:, None]

        def to_image(q):  # letterboxed, normalised -> image px
            return (q * DETECT_SIZE - [px, py]) / s + [x0, y0]

        boxes = np.concatenate([to_image(c - half), to_image(c + half)], -1)
        return boxes, to_image(pts), score

    # -- landmarks --------------------------------------------------------------------------------------
    def landmarks(self, rgb: np.ndarray, roi: Roi):
        """One person inside ``roi``: keypoints ``(33, 3)`` (x px, y px, visibility), world landmarks
        ``(33, 3)`` m, presence (0-1) and the auxiliary points ``(2, 2)`` px (hip centre, body-size point)
        that give the next frame's ROI (:func:`roi_from_points`; MediaPipe smooths them first)."""
        n = LANDMARK_SIZE
        self._lmk.set_tensor(self._l_in, (crop_roi(rgb, roi, n).astype(np.float32) / 255.0)[None])
        self._lmk.invoke()
        pts = self._lmk.get_tensor(self._l_pts)[0].reshape(39, 5).astype(float)
        flag = float(self._lmk.get_tensor(self._l_flag)[0, 0])
        heat = self._lmk.get_tensor(self._l_heat)[0]
        world = self._lmk.get_tensor(self._l_world)[0].reshape(39, 3)[:33].astype(float)
        xy = from_crop(refine_on_heatmap(pts[:, :2] / n, heat), roi)  # (39, 2) px
        vis = 1 / (1 + np.exp(-np.clip(pts[:, 3], -50, 50)))
        return np.concatenate([xy[:33], vis[:33, None]], -1), world, flag, xy[33:35]


def refine_on_heatmap(uv: np.ndarray, heat: np.ndarray, kernel: int = 7, min_conf: float = 0.5) -> np.ndarray:
    """MediaPipe's landmark refinement: each landmark ``uv (K, 2)`` (normalised in the crop) moved to the
    confidence-weighted mean of its ``kernel`` x ``kernel`` heatmap window ``heat (64, 64, K)`` (sigmoid of
    the logits) where the window's peak reaches ``min_conf``. Vectorised over landmarks."""
    K = len(uv)
    h = kernel // 2
    col = (uv[:, 0] * HEATMAP_SIZE).astype(int)
    row = (uv[:, 1] * HEATMAP_SIZE).astype(int)
    inside = (col >= 0) & (col < HEATMAP_SIZE) & (row >= 0) & (row < HEATMAP_SIZE)
    off = np.arange(-h, h + 1)
    rr = row[:, None, None] + off[None, :, None]
    cc = col[:, None, None] + off[None, None, :]
    valid = (rr >= 0) & (rr < HEATMAP_SIZE) & (cc >= 0) & (cc < HEATMAP_SIZE)
    conf = 1 / (1 + np.exp(-heat[np.clip(rr, 0, 63), np.clip(cc, 0, 63), np.arange(K)[:, None, None]]))
    conf = np.where(valid, conf, 0.0)
    total = conf.sum((1, 2))
    ok = inside & (conf.max((1, 2)) >= min_conf) & (total > 0)
    ref = np.stack([(conf * cc).sum((1, 2)), (conf * rr).sum((1, 2))], -1) / np.maximum(total, 1e-12)[:, None] / HEATMAP_SIZE
    return np.where(ok[:, None], ref, uv)

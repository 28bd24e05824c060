"""Temporal filters for trajectories, NaN-aware and vectorised over joints.

Every filter takes ``x`` of shape ``(T, ...)`` (e.g. ``(T, J, 3)`` metres) and ``fps``, and returns
the same shape. NaN runs are bridged by linear interpolation for filtering and put back afterwards
(gap filling is a separate, explicit step: :mod:`mocap.smooth.gaps`). Parameters are in Hz, seconds or
frames as named.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..errors import MocapError


def _bridge(x: np.ndarray):
    """Linear interpolation over NaNs along axis 0 (edges held); returns (filled 2-D array, nan mask, shape)."""
    shape = x.shape
    flat = np.asarray(x, dtype=float).reshape(shape[0], -1).copy()
    nan = ~np.isfinite(flat)
    if nan.any():
        t = np.arange(shape[0])
        for c in np.flatnonzero(nan.any(axis=0)):  # per column with gaps (not per point)
            good = ~nan[:, c]
            if good.sum() == 0:
                continue
            flat[nan[:, c], c] = np.interp(t[nan[:, c]], t[good], flat[good, c])
    return flat, nan, shape


def _restore(flat, nan, shape):
    out = flat.copy()
    out[nan] = np.nan
    return out.reshape(shape)


def butterworth(x: np.ndarray, fps: float, cutoff: float = 6.0, order: int = 4) -> np.ndarray:
    """Zero-phase (forward-backward) low-pass Butterworth; ``cutoff`` in Hz (-6 dB there, no lag)."""
    if not 0 < cutoff < fps / 2:
        raise MocapError(f"Butterworth cut-off {cutoff} Hz must be between 0 and fps/2 = {fps / 2} Hz")
    flat, nan, shape = _bridge(x)
    from scipy import signal  # 0.8 s to import: only where a filter of it runs

    sos = signal.butter(order, cutoff, fs=fps, output="sos")
    if shape[0] <= 3 * (2 * order + 1):
        return np.asarray(x, dtype=float).copy()
    return _restore(signal.sosfiltfilt(sos, flat, axis=0), nan, shape)


def savgol(x: np.ndarray, fps: float, window: float = 0.25, polyorder: int = 3) -> np.ndarray:
    """Savitzky-Golay smoothing over a ``window`` in seconds (odd number of frames, >= polyorder + 2)."""
    n = max(polyorder + 2, int(round(window * fps)) | 1)
    flat, nan, shape = _bridge(x)
    if shape[0] < n:
        return np.asarray(x, dtype=float).copy()
    from scipy import signal

    return _restore(signal.savgol_filter(flat, n | 1, polyorder, axis=0, mode="interp"), nan, shape)


def median(x: np.ndarray, fps: float | None = None, kernel: int = 5) -> np.ndarray:
    """Running median over ``kernel`` frames (odd); removes spikes shorter than kernel/2."""
    flat, nan, shape = _bridge(x)
    return _restore(ndimage.median_filter(flat, size=(kernel | 1, 1), mode="nearest"), nan, shape)


def gaussian(x: np.ndarray, fps: float | None = None, sigma: float = 2.0) -> np.ndarray:
    """Gaussian smoothing with standard deviation ``sigma`` frames (zero phase)."""
    flat, nan, shape = _bridge(x)
    return _restore(ndimage.gaussian_filter1d(flat, sigma, axis=0, mode="nearest"), nan, shape)


class OneEuro:
    """A streaming One-Euro filter (Casiez et al. 2012) over an array of values, one sample at a time:
    ``min_cutoff``/``d_cutoff`` in Hz, ``beta`` raises the cut-off with speed (units of x per second).
    ``filter(x, dt, scale)``: the filtered sample; the speed that raises the cut-off is measured in units of
    ``scale`` (MediaPipe measures a landmark's speed in person sizes, so one setting holds near and far)."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.5, d_cutoff: float = 1.0):
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.prev = self.dprev = None

    @staticmethod
    def alpha(fc, dt: float):
        return 1.0 / (1.0 + 1.0 / (2 * np.pi * fc) / dt)

    def filter(self, x: np.ndarray, dt: float, scale: float = 1.0) -> np.ndarray:
        x = np.asarray(x, float)
        if self.prev is None:
            self.prev, self.dprev = x.copy(), np.zeros_like(x)
            return x.copy()
        a_d = self.alpha(self.d_cutoff, dt)
        self.dprev = a_d * (x - self.prev) / (dt * scale) + (1 - a_d) * self.dprev
        a = self.alpha(self.min_cutoff + self.beta * np.abs(self.dprev), dt)
        self.prev = a * x + (1 - a) * self.prev
        return self.prev.copy()


def one_euro(x: np.ndarray, fps: float, min_cutoff: float = 1.0, beta: float = 0.5, *, d_cutoff: float = 1.0) -> np.ndarray:
    """One-Euro filter (Casiez et al. 2012, :class:`OneEuro` over a whole sequence): causal, for live use.
    ``min_cutoff``/``d_cutoff`` in Hz, ``beta`` raises the cut-off with speed (units of x per second),
    cutting lag on fast moves."""
    flat, nan, shape = _bridge(x)
    out = np.empty_like(flat)
    f = OneEuro(min_cutoff, beta, d_cutoff)
    for t in range(len(flat)):  # sequential in time by definition; vectorised over joints
        out[t] = f.filter(flat[t], 1.0 / fps)
    return _restore(out, nan, shape)


def kalman_rts(x: np.ndarray, fps: float, measurement_noise: float = 0.01, process_noise: float = 50.0) -> np.ndarray:
    """Constant-acceleration Kalman filter with Rauch-Tung-Striebel smoothing (zero lag).

    ``measurement_noise``: std of the input (units of x); ``process_noise``: std of the jerk
    (units of x per s^3). Missing samples (NaN) are predicted, not updated. Vectorised over columns.
    """
    shape = x.shape
    z = np.asarray(x, dtype=float).reshape(shape[0], -1)
    T, N = z.shape
    dt = 1.0 / fps
    F = np.array([[1, dt, dt * dt / 2], [0, 1, dt], [0, 0, 1]])
    G = np.array([dt ** 3 / 6, dt ** 2 / 2, dt])
    Q = np.outer(G, G) * process_noise ** 2
    R = measurement_noise ** 2
    m = np.zeros((T, N, 3))
    P = np.zeros((T, N, 3, 3))
    mp = np.zeros((T, N, 3))
    Pp = np.zeros((T, N, 3, 3))
    first = np.where(np.isfinite(z).any(0), np.argmax(np.isfinite(z), axis=0), 0)
    cur_m = np.zeros((N, 3))
    cur_m[:, 0] = np.nan_to_num(z[first, np.arange(N)])
    cur_P = np.broadcast_to(np.diag([R, 1.0, 10.0]), (N, 3, 3)).copy()
    for t in range(T):
        if t > 0:
            cur_m = cur_m @ F.T
            cur_P = F @ cur_P @ F.T + Q
        mp[t], Pp[t] = cur_m, cur_P
        obs = np.isfinite(z[t])
        S = cur_P[:, 0, 0] + R
        K = cur_P[:, :, 0] / S[:, None]
        innov = np.where(obs, z[t] - cur_m[:, 0], 0.0)
        cur_m = cur_m + K * innov[:, None]
        upd = cur_P - K[:, :, None] * cur_P[:, None, 0, :]
        cur_P = np.where(obs[:, None, None], upd, cur_P)
        m[t], P[t] = cur_m, cur_P
    sm = m.copy()
    for t in range(T - 2, -1, -1):  # RTS backward pass
        C = P[t] @ F.T @ np.linalg.inv(Pp[t + 1])
        sm[t] = m[t] + np.einsum("nij,nj->ni", C, sm[t + 1] - mp[t + 1])
        P[t] = P[t] + C @ (P[t + 1] - Pp[t + 1]) @ np.swapaxes(C, -1, -2)
    out = sm[..., 0]
    out[~np.isfinite(z)] = np.nan
    return out.reshape(shape)


def hampel(x: np.ndarray, fps: float | None = None, window: int = 7, n_sigma: float = 3.0,
           *, min_sigma: float = 0.005) -> tuple[np.ndarray, np.ndarray]:
    """Hampel outlier removal: samples further than ``n_sigma`` robust stds (1.4826 MAD, at least
    ``min_sigma`` in units of x: 5 mm for metres) from the running median over ``window`` frames
    become NaN. Returns (cleaned, outlier mask) per column."""
    flat, nan, shape = _bridge(x)
    k = window | 1
    med = ndimage.median_filter(flat, size=(k, 1), mode="nearest")
    mad = ndimage.median_filter(np.abs(flat - med), size=(k, 1), mode="nearest") * 1.4826
    out = (np.abs(flat - med) > n_sigma * np.maximum(mad, min_sigma)) & ~nan
    cleaned = flat.copy()
    cleaned[out | nan] = np.nan
    return cleaned.reshape(shape), out.reshape(shape)


FILTERS = {"butterworth": butterworth, "savgol": savgol, "median": median, "gaussian": gaussian,
           "one_euro": one_euro, "kalman": kalman_rts}


# (filter, parameter) measured in time: frames per unit of the parameter at ``fps``
WINDOWS = {("median", "kernel"): lambda fps: 1.0, ("gaussian", "sigma"): lambda fps: 1.0,
           ("savgol", "window"): lambda fps: fps}
ZERO_OK = {"beta"}  # filter parameters that may be 0 (One-Euro's speed coefficient); the others must be > 0


def smooth(x: np.ndarray, fps: float, name: str = "butterworth", **params) -> np.ndarray:
    """Apply the filter called ``name`` (see :data:`FILTERS`) with its parameters."""
    try:
        f = FILTERS[name]
    except KeyError:
        raise MocapError(f"unknown filter {name!r}; known: {', '.join(FILTERS)}") from None
    import inspect

    sig = inspect.signature(f).parameters
    known = [p for p in sig if p not in ("x", "fps")]
    for k, v in list(params.items()):
        if k not in known:
            raise MocapError(f"filter {name} has no parameter {k!r} (its parameters: {', '.join(known)})")
        whole = sig[k].annotation in (int, "int")
        low_ok = v >= 0 if k in ZERO_OK else v > 0
        if not np.isfinite(v) or not low_ok or (whole and (v != int(v) or v < 1)):
            raise MocapError(f"filter {name}: {k} must be a {'whole number >= 1' if whole else 'finite number'} "
                             f"{'>= 0' if k in ZERO_OK else '> 0'}, not {v:g}")
        params[k] = int(v) if whole else float(v)
    for k, v in params.items():  # a window longer than the motion smooths nothing and can take minutes
        if (name, k) in WINDOWS and v * WINDOWS[name, k](fps) > len(x):
            raise MocapError(f"filter {name}: {k} {v:g} spans {v * WINDOWS[name, k](fps):.0f} frames, longer than the "
                             f"motion ({len(x)} frames at {fps:g} fps)")
    return f(x, fps, **params)

"""Each filter against known signals: pass band, stop band, lag, steps, spikes, gaps."""
import numpy as np
import pytest

from mocap.smooth import filters
from mocap.smooth.gaps import fill_gaps
from mocap.smooth.metrics import bone_length_cv, jitter, lag

FPS = 60.0
T = np.arange(600) / FPS


def sine(f, amp=1.0):
    return amp * np.sin(2 * np.pi * f * T)[:, None]


def gain(y, f):
    """Amplitude of frequency f in y (least-squares fit on the middle, away from the edges)."""
    s, c = np.sin(2 * np.pi * f * T), np.cos(2 * np.pi * f * T)
    sl = slice(120, 480)
    A = np.stack([s[sl], c[sl]], 1)
    coef, *_ = np.linalg.lstsq(A, y[sl, 0], rcond=None)
    return float(np.hypot(*coef))


def test_butterworth_cutoff_and_zero_lag():
    assert gain(filters.butterworth(sine(1.0), FPS, 6.0), 1.0) > 0.999  # pass band
    assert abs(gain(filters.butterworth(sine(6.0), FPS, 6.0), 6.0) - 0.5) < 0.02  # -6 dB at the cut-off (filtfilt)
    assert gain(filters.butterworth(sine(15.0), FPS, 6.0), 15.0) < 0.01  # stop band
    assert lag(sine(1.0), filters.butterworth(sine(1.0), FPS, 6.0)) == 0


def test_step_is_symmetric_without_lag():
    step = (T > 5).astype(float)[:, None]
    for name, kw in [("butterworth", {}), ("gaussian", {}), ("savgol", {}), ("kalman", {"measurement_noise": 0.05})]:
        y = filters.smooth(step, FPS, name, **kw)[:, 0]
        i = np.argmin(np.abs(y - 0.5))
        assert abs(T[i] - 5.0) <= 1.5 / FPS, name  # half-way point at the step: no lag
        assert y[:250].max() < 0.2 and y[350:].min() > 0.8, name


def test_one_euro_is_causal_with_small_lag_and_less_jitter():
    rng = np.random.default_rng(0)
    clean = sine(0.5, 0.3)
    noisy = clean + rng.normal(0, 0.005, clean.shape)
    y = filters.one_euro(noisy, FPS, min_cutoff=1.0, beta=0.5)
    assert jitter(y[:, None], FPS) < 0.3 * jitter(noisy[:, None], FPS)
    assert 0 <= lag(clean, y) <= 5  # causal: some lag, under 0.1 s at 60 fps
    # causal: changing the future does not change the past
    z = noisy.copy()
    z[300:] += 1.0
    assert np.array_equal(filters.one_euro(z, FPS)[:300], filters.one_euro(noisy, FPS)[:300])


def test_kalman_rts_denoises_and_bridges_gaps():
    rng = np.random.default_rng(1)
    clean = sine(0.7, 0.2)
    noisy = clean + rng.normal(0, 0.01, clean.shape)
    noisy[200:215] = np.nan
    y = filters.kalman_rts(noisy, FPS, measurement_noise=0.01, process_noise=20.0)
    err = np.abs(y - clean)
    assert np.nanmean(err) < 0.4 * 0.01 * np.sqrt(2 / np.pi) * 1.0 + 0.003
    assert np.isnan(y[200:215]).all()  # gaps are filled explicitly, not silently
    assert lag(clean, y) == 0


def test_median_and_hampel_remove_spikes():
    x = sine(0.5).copy()
    x[[100, 250, 400]] += 5.0
    m = filters.median(x, FPS, kernel=5)
    assert np.abs(m - sine(0.5)).max() < 0.06  # the spike is gone; at most one sample of shift left
    cleaned, out = filters.hampel(x, FPS, window=7)
    assert set(np.flatnonzero(out[:, 0])) == {100, 250, 400}
    assert np.isnan(cleaned[[100, 250, 400]]).all()


def test_savgol_preserves_peaks_better_than_gaussian():
    x = sine(2.0)
    assert gain(filters.savgol(x, FPS, window=0.2), 2.0) > 0.97
    assert gain(filters.gaussian(x, FPS, sigma=3), 2.0) < gain(filters.savgol(x, FPS, window=0.2), 2.0)


def test_filters_keep_nan_and_shapes():
    x = np.random.default_rng(2).normal(size=(300, 17, 3))
    x[50:60, 3] = np.nan
    for name in filters.FILTERS:
        y = filters.smooth(x, FPS, name)
        assert y.shape == x.shape and np.isnan(y[50:60, 3]).all() and np.isfinite(y[:50]).all(), name


def test_bad_filter_parameters():
    from mocap.errors import MocapError
    with pytest.raises(MocapError, match="cut-off"):
        filters.butterworth(sine(1.0), FPS, cutoff=40.0)
    with pytest.raises(MocapError, match="unknown filter"):
        filters.smooth(sine(1.0), FPS, "wavelet")


def test_fill_gaps_reports_and_respects_max_gap():
    x = np.stack([np.sin(T), np.cos(T), T], -1)[:, None]  # (T, 1, 3)
    y = x.copy()
    y[100:120] = np.nan  # 20 frames: filled
    y[300:340] = np.nan  # 40 frames: left
    filled, mask = fill_gaps(y, max_gap=30, kind="cubic")
    assert mask[100:120, 0].all() and not mask[300:340, 0].any()
    assert np.abs(filled[100:120] - x[100:120]).max() < 1e-4
    assert np.isnan(filled[300:340]).all()


def test_bone_length_cv():
    P = np.zeros((100, 2, 3))
    P[:, 1, 0] = 1.0 + 0.01 * np.sin(np.arange(100))
    cv = bone_length_cv(P, np.array([[0, 1]]))
    assert 0.006 < cv[0] < 0.008

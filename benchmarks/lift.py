"""Lifter inference speed: frames/s lifting one long sequence (batched over time) on this CPU.

The default answer is the test-time ensemble (2 views: the camera as it is and mirrored, one batched
pass); the baseline measured in the same run is the bare network on one view, the earlier 4-view
ensemble (cameras rolled +-20 deg, each also mirrored) shows what dropping the rolls saves, and the plain
(unfused BatchNorm) model shows what folding BatchNorm into the convolutions saves, and one pass over the whole
sequence what running it in cache-sized pieces (``mocap.lift.model.CHUNK``) saves.

Run: python benchmarks/lift.py [--frames N] [--weights PATH]
"""
import argparse
import time

import numpy as np


def rate(fn, seq, repeat=3) -> float:
    fn(seq[:1000])  # warm-up
    best = min(_timed(fn, seq) for _ in range(repeat))
    return len(seq) / best


def _timed(fn, seq) -> float:
    t0 = time.perf_counter()
    fn(seq)
    return time.perf_counter() - t0


def main():
    import torch

    from mocap.lift.model import WEIGHTS, load_model, predict

    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=100000)
    ap.add_argument("--weights", default=str(WEIGHTS))
    a = ap.parse_args()
    model, _ = load_model(a.weights)
    unfused, _ = load_model(a.weights, fuse=False)
    rng = np.random.default_rng(0)
    seq = np.concatenate([rng.normal(0, 0.2, (a.frames, 15, 2)), np.ones((a.frames, 15, 1))], -1)
    single = rate(lambda s: predict(model, s, rolls_deg=(0.0,), mirror=False), seq)
    default = rate(lambda s: predict(model, s), seq)
    plain = rate(lambda s: predict(unfused, s), seq)
    four = rate(lambda s: predict(model, s, rolls_deg=(-20.0, 20.0)), seq)
    import mocap.lift.model as lm
    chunk, lm.CHUNK = lm.CHUNK, 10 ** 9
    whole = rate(lambda s: predict(model, s), seq)  # the whole sequence in one pass
    lm.CHUNK = chunk
    print(f"{a.frames} frames, torch threads {torch.get_num_threads()}")
    rows = [("one view (baseline)", single, ""), ("mirror ensemble, 2 views (default)", default, "  (target >= 20,000)"),
            ("4 views (rolled +-20 deg, mirrored)", four, ""), ("default, BatchNorm unfused", plain, ""),
            ("default, one pass (no pieces)", whole, "")]
    for label, r, note in rows:
        print(f"  {label:38s} {r:10,.0f} frames/s  ratio {r / single:.2f}{note}")


if __name__ == "__main__":
    main()

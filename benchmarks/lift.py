"""Lifter inference speed: frames/s lifting one long sequence (batched over time) on this CPU.

Run: python benchmarks/lift.py [--frames N] [--weights PATH]
"""
import argparse
import time

import numpy as np


def main():
    from mocap.lifter import WEIGHTS, load_model, predict

    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=100000)
    ap.add_argument("--weights", default=str(WEIGHTS))
    a = ap.parse_args()
    model, _ = load_model(a.weights)
    rng = np.random.default_rng(0)
    seq = np.concatenate([rng.normal(0, 0.2, (a.frames, 15, 2)), np.ones((a.frames, 15, 1))], -1)
    predict(model, seq[:1000])  # warm-up
    t0 = time.perf_counter()
    predict(model, seq)
    dt = time.perf_counter() - t0
    print(f"{a.frames} frames in {dt:.2f} s: {a.frames / dt:,.0f} frames/s (target >= 20,000)")


if __name__ == "__main__":
    main()

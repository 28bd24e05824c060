"""Mutation fuzzing of every file reader: seed files (``tests/hostile/seeds``) mutated at random (bytes, lines,
numbers, structure), each read by the project's reader; anything but a result or a :class:`MocapError` is a
defect (also a MocapError that only the readers' last net caught, :mod:`mocap.io.guard`), as is an input that
takes over 5 s (a hang).

Run briefly by the tests (``tests/hostile/test_fuzz.py``) and at length by ``make fuzz``::

    python -m mocap.testing.fuzz --inputs 100000 [--reader bvh] [--seed 1]

which prints, per reader: inputs read, results, project errors, other exceptions (with their distinct places),
hangs, the slowest input and the process' peak memory.
"""
from __future__ import annotations

import argparse
import io
import random
import resource
import signal
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MocapError

INTERESTING = ["0", "-0", "1", "-1", "2", "3", "-3", "255", "65535", "-2147483649", "1e308", "-1e308", "1e-320",
               "nan", "inf", "-inf", "NaN", "9" * 40, "0.5", "3.4e38", "", " ", "\t", "x", "[]", "{}", "null", '"'
               , "[[[[[[[[[[", "}", "{", "0x10", "1_000", "true"]
NUMBER = None  # compiled lazily


def mutate_text(data: bytes, rng: random.Random) -> bytes:
    """One to four edits of a text file: numbers swapped for interesting ones, lines dropped, doubled or
    swapped, tokens inserted, bytes flipped, the tail cut."""
    global NUMBER
    import re

    NUMBER = NUMBER or re.compile(rb"-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.35 and data:
            spans = [m.span() for m in NUMBER.finditer(data)]
            if spans:
                a, b = rng.choice(spans)
                data = data[:a] + rng.choice(INTERESTING).encode() + data[b:]
                continue
        lines = data.split(b"\n")
        if kind < 0.55 and len(lines) > 1:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            op = rng.randrange(3)
            if op == 0:
                del lines[i]
            elif op == 1:
                lines.insert(i, lines[j])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
        elif kind < 0.7:
            i = rng.randrange(len(data) + 1)
            data = data[:i] + rng.choice(INTERESTING).encode() + data[i:]
        else:
            data = mutate_bytes(data, rng, edits=1)
    return data


def mutate_bytes(data: bytes, rng: random.Random, edits: int | None = None) -> bytes:
    """Byte-level edits of a binary file: flips, interesting 16/32-bit values, deletions, duplications, cuts."""
    buf = bytearray(data)
    for _ in range(edits or rng.randint(1, 6)):
        if not buf:
            buf += bytes([rng.randrange(256)])
        i = rng.randrange(len(buf))
        op = rng.randrange(6)
        if op == 0:
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            v = rng.choice([0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF])
            buf[i:i + 4] = v.to_bytes(4, "little")[: max(1, min(4, len(buf) - i))]
        elif op == 2:
            del buf[i:i + rng.randint(1, 64)]
        elif op == 3:
            j = rng.randrange(len(buf))
            buf[i:i] = buf[j:j + rng.randint(1, 64)]
        elif op == 4:
            del buf[i:]
        else:
            buf[i] = rng.randrange(256)
    return bytes(buf)


def mutate_npz(data: bytes, rng: random.Random) -> bytes:
    """Structure-aware edits of an ``.npz``: arrays dropped, emptied, reshaped, retyped, filled with NaN/inf or
    huge values, strings where numbers belong; sometimes raw byte edits of the archive."""
    if rng.random() < 0.25:
        return mutate_bytes(data, rng)
    try:
        z = dict(np.load(io.BytesIO(data), allow_pickle=False))
    except Exception:
        return mutate_bytes(data, rng)
    for _ in range(rng.randint(1, 3)):
        if not z:
            break
        key = rng.choice(sorted(z))
        a = z[key]
        op = rng.randrange(8)
        if op == 0:
            del z[key]
        elif op == 1:
            z[key] = a.reshape(-1)[:0]
        elif op == 2 and a.size:
            z[key] = a.reshape(-1)
        elif op == 3 and a.dtype.kind == "f" and a.size:
            b = a.copy()
            b.reshape(-1)[rng.randrange(b.size)] = rng.choice([np.nan, np.inf, -np.inf, 1e308, -0.0])
            z[key] = b
        elif op == 4:
            z[key] = np.array("bogus")
        elif op == 5:
            z[key] = a.astype(np.int8) if a.dtype.kind in "fiu" else np.zeros(3)
        elif op == 6 and a.ndim:
            z[key] = np.repeat(a, 2, axis=rng.randrange(a.ndim))
        else:
            z[key] = np.array(rng.choice([0, -1, 1e9, np.nan]))
    out = io.BytesIO()
    np.savez(out, **z)
    return out.getvalue()


@dataclass
class Reader:
    """A reader under test: ``read(path)`` on a file named ``name`` (the seed's name), ``seed`` its bytes,
    ``mutate`` the mutator; ``setup(folder)`` puts fixed companion files beside it (e.g. extri.yml)."""

    name: str
    seed: str
    read: object
    mutate: object = mutate_text
    setup: object = None


def readers(seeds: Path) -> list[Reader]:
    """Every reader of the project, with its seed file in ``seeds``."""
    from ..io import bvh, calibration, keypoints, motion, offsets

    def openpose(path):
        return keypoints.read_openpose_folders([path.parent], None, 30.0)

    def yml_pair(folder):
        (folder / "extri.yml").write_bytes((seeds / "extri.yml").read_bytes())

    return [
        Reader("bvh", "clip.bvh", bvh.read_bvh),
        Reader("trc", "clip.trc", motion.read_trc),
        Reader("csv", "clip.csv", motion.read_csv),
        Reader("npz", "clip.npz", motion.load_motion, mutate_npz),
        Reader("c3d", "clip.c3d", motion.read_c3d, mutate_bytes),
        Reader("calib-toml", "calib.toml", calibration.read_calibration),
        Reader("calib-qca", "calib.qca.txt", calibration.read_calibration),
        Reader("calib-yml", "intri.yml", lambda p: calibration.read_calibration(p.parent), setup=yml_pair),
        Reader("openpose", "cam01.0001.json", openpose),
        Reader("coco", "coco.json", keypoints.read_coco_results),
        Reader("keypoints-npz", "keypoints.npz", keypoints.read_keypoints, mutate_npz),
        Reader("keypoints-csv", "keypoints.csv", keypoints.read_keypoints),
        Reader("offsets", "offsets.toml", offsets.read_offsets),
    ]


@dataclass
class Report:
    """What fuzzing one reader found."""

    reader: str
    inputs: int = 0
    results: int = 0
    errors: int = 0
    hangs: int = 0
    slowest_s: float = 0.0
    crashes: dict[str, list] = field(default_factory=dict)  # place -> [count, example message, example bytes]

    @property
    def other_exceptions(self) -> int:
        return sum(v[0] for v in self.crashes.values())


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


def fuzz_reader(r: Reader, seeds: Path, n: int, seed: int = 0, *, timeout_s: float = 5.0) -> Report:
    """Read ``n`` mutations of ``r``'s seed; every outcome counted (see :class:`Report`)."""
    import warnings

    rng = random.Random(f"{r.name}:{seed}")
    base = (seeds / r.seed).read_bytes()
    rep = Report(r.name)
    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy/c3d warnings about the damaged values are expected here
        folder = Path(d)
        if r.setup:
            r.setup(folder)
        path = folder / r.seed
        old = signal.signal(signal.SIGALRM, _alarm)
        try:
            for _ in range(n):
                data = r.mutate(base, rng)
                path.write_bytes(data)
                _one(r, path, data, rep, timeout_s=timeout_s)
        finally:
            signal.signal(signal.SIGALRM, old)
    return rep


def _one(r: Reader, path: Path, data: bytes, rep: Report, *, timeout_s: float) -> None:
    rep.inputs += 1
    t0 = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        r.read(path)
        rep.results += 1
    except MocapError as e:
        if getattr(e, "unexpected", None):  # caught only by the readers' last net (mocap.io.guard): still a defect
            rep.crashes.setdefault(f"{e.unexpected} (net)", [0, str(e)[:200], data[:2000]])[0] += 1
        else:
            rep.errors += 1
    except _Hang:
        rep.hangs += 1
        rep.crashes.setdefault("hang", [0, "over the time limit", data[:2000]])[0] += 1
    except Exception as e:  # the defects this fuzzer looks for
        where = traceback.extract_tb(e.__traceback__)[-1]
        place = f"{type(e).__name__} at {Path(where.filename).name}:{where.lineno}"
        entry = rep.crashes.setdefault(place, [0, str(e)[:200], data[:2000]])
        entry[0] += 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    rep.slowest_s = max(rep.slowest_s, time.perf_counter() - t0)


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=100_000, help="inputs per reader (default 100 000)")
    ap.add_argument("--reader", action="append", help="only these readers (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", default=str(Path(__file__).resolve().parents[2] / "tests" / "hostile" / "seeds"))
    args = ap.parse_args(argv)
    seeds, bad = Path(args.seeds), 0
    print(f"{'reader':14} {'inputs':>8} {'results':>8} {'errors':>8} {'other':>6} {'hangs':>6} {'slowest s':>9} {'peak MB':>8}")
    for r in readers(seeds):
        if args.reader and r.name not in args.reader:
            continue
        rep = fuzz_reader(r, seeds, args.inputs, args.seed)
        bad += rep.other_exceptions
        print(f"{rep.reader:14} {rep.inputs:8d} {rep.results:8d} {rep.errors:8d} {rep.other_exceptions:6d} {rep.hangs:6d} "
              f"{rep.slowest_s:9.3f} {peak_memory_mb():8.0f}", flush=True)
        for place, (count, msg, _) in sorted(rep.crashes.items(), key=lambda kv: -kv[1][0]):
            print(f"    {count:6d}  {place}: {msg}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Long motions retargeted in pieces of time, spread over an executor (:mod:`mocap.workers`).

Every frame's rotations follow from that frame's joints (:func:`~mocap.retarget.solve.rotations`) but for two things
carried over time: the feet's roll (:func:`~mocap.retarget.solve.transport_roll`, which forgets where it started
with time constant ``roll_time``) and rotations held from the frame before where a cue is missing. So each piece is
solved (:func:`~mocap.retarget.solve.rotations_in_pieces`) with :data:`WARM_UP` time constants of the frames
before it (at least :data:`MIN_WARM_UP` frames) and those
frames dropped: at the seam the roll has forgotten its start to ``exp(-WARM_UP)`` of the difference (a 180 deg
difference becomes 1e-6 deg), and the answer is the one of a single pass, within the last digits of a BVH's angles
(``tests/retarget/test_pieces.py``). Only a cue missing for longer than the warm-up before a seam is held from a later
frame instead of an earlier one. What spans the whole motion (proportions, notes, facing, floor) is decided by
:func:`~mocap.retarget.solve.retarget`, once.

Shapes: targets role -> ``(T, 3)`` metres (:func:`~mocap.retarget.solve.source_targets`).
"""
from __future__ import annotations

import math

PIECE = 4096  # frames per piece (68 s at 60 fps): about 60 MB of temporaries for a 25-joint rig
WARM_UP = 20.0  # time constants of the feet's roll solved before each piece and dropped
MIN_WARM_UP = 60  # frames: short roll times still see a second of what came before


def warm_frames(fps: float, roll_time: float) -> int:
    """Frames solved before a piece and dropped: :data:`WARM_UP` time constants ``roll_time`` (s) of the feet's roll,
    at least :data:`MIN_WARM_UP`."""
    return max(MIN_WARM_UP, math.ceil(WARM_UP * roll_time * fps))


def spans(T: int, piece: int, warm: int) -> list[tuple[slice, int]]:
    """``[(frames to solve, how many of them to drop at the start)]``: pieces of ``piece`` frames covering ``0..T``
    (a short last piece joins the one before), each solved from ``warm`` frames earlier."""
    starts = list(range(0, T, piece))
    if len(starts) > 1 and T - starts[-1] < piece // 2:
        starts.pop()
    ends = starts[1:] + [T]
    return [(slice(max(0, s - warm), e), s - max(0, s - warm)) for s, e in zip(starts, ends)]

"""``mocap smooth``: spikes removed (Hampel), short gaps filled (cubic), then one filter of
:mod:`.filters` — for any 3D motion, whatever produced it."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..core.motion import Motion3D
from .filters import hampel, smooth
from .gaps import fill_gaps
from .refine import refined_confidence


@dataclass
class Cleaned:
    """The cleaned motion, how many frames lost a spike, and ``(T, J)`` which points were filled."""

    motion: Motion3D
    spikes: int
    filled: np.ndarray


def clean_motion(motion: Motion3D, filter: str = "butterworth", params: dict | None = None, max_gap_s: float = 0.5,
                 *, remove_spikes: bool = True) -> Cleaned:
    """Hampel spike removal (unless ``remove_spikes`` is off), cubic filling of gaps up to
    ``max_gap_s`` seconds, then ``filter`` with ``params`` (:func:`~mocap.smooth.filters.smooth`)."""
    pos = motion.positions
    spikes = 0
    if remove_spikes:
        pos, out = hampel(pos, motion.fps)
        spikes = int(out.any(-1).sum())
    filled = np.zeros(pos.shape[:2], bool)
    if max_gap_s > 0:
        pos, filled = fill_gaps(pos, int(round(max_gap_s * motion.fps)), "cubic")
    pos = smooth(pos, motion.fps, filter, **(params or {}))
    return Cleaned(replace(motion, positions=pos, confidence=refined_confidence(pos, motion.confidence)), spikes, filled)

"""One camera, contact-aware: planted feet stay planted, the root is anchored by them, jumps stay jumps, and
``mocap lift`` and ``video2bvh`` give the same motion from the same 2D.

Scenes: real motion capture in ``tests/data/mocap`` (a walk, salsa, jumps, karate kicks, a run; 25-60 fps) seen by
one camera 5 m away with detector-like 2D (:func:`mocap.testing.scenes.one_camera_scene`), through the whole
one-camera path with the shipped lifter. Slide = median movement along the floor per frame of each ankle over the
truth's contact frames, after one similarity alignment of the whole clip to the truth; the root error is the
pelvis' distance after that alignment.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mocap.core.rotations import procrustes_align
from mocap.lift.joints import LIFT_JOINTS
from mocap.lift.train import procrustes_errors
from mocap.smooth.contacts import contact_f1, detect_contacts, estimate_floor, foot_slide, heights, standing_heights
from mocap.testing.scenes import one_camera_scene

DATA = Path(__file__).parents[1] / "data" / "mocap"
ANKLES = [LIFT_JOINTS.index("left_ankle"), LIFT_JOINTS.index("right_ankle")]
CLIPS = {"walk": ("cmu_131/scaled_131_01.bvh", 30), "salsa": ("cmu_salsa/60_01_scaled.bvh", 30),
         "jumps": ("extra/hht_cmu/jump/13_32.bvh", 50), "karate": ("extra/acrnn_cmu/martial/05.bvh", 25),
         "run": ("extra/rgbdacq_cmu/102_01cc.bvh", 60)}


def measure(P: np.ndarray, contacts, truth: np.ndarray, fps: float) -> dict:
    """The one-camera result ``P (T, 15, 3)`` against ``truth``: PA-MPJPE, root error (mm), slide (mm per frame) of the
    result and of the truth in the truth's contacts, contact F1."""
    ok = np.isfinite(P).all((1, 2))
    Pa = np.full(P.shape, np.nan)  # one similarity for the whole clip
    Pa[ok] = procrustes_align(P[ok].reshape(1, -1, 3), truth[ok].reshape(1, -1, 3)).reshape(P[ok].shape)
    floor = estimate_floor(truth[:, ANKLES], fps, up=(0, 1, 0))
    tc = detect_contacts(truth[:, ANKLES], fps, floor)
    root = 1000 * np.linalg.norm(Pa[ok, 0] - truth[ok, 0], axis=-1)
    return {"pa": 1000 * procrustes_errors(P[ok] - P[ok, :1], truth[ok] - truth[ok, :1]).mean(),
            "root": root.mean(), "root_p95": np.percentile(root, 95),
            "slide": 1000 * np.nanmedian(foot_slide(Pa[:, ANKLES], tc, floor)),
            "truth_slide": 1000 * np.nanmedian(foot_slide(truth[:, ANKLES], tc, floor)),
            "f1": contact_f1(contacts[:, ANKLES], tc) if contacts is not None else np.nan, "truth_contacts": tc}


@pytest.fixture(scope="module")
def results():
    from mocap.lift.model import load_model
    from mocap.pipelines.monocular import animate_person

    model = load_model()[0]
    out = {}
    for name, (clip, fps) in CLIPS.items():
        truth, det = one_camera_scene(DATA / clip, fps, yaw_deg=30.0)
        row = {"truth": truth, "fps": fps}
        for contacts in (True, False):
            anim, notes, pm = animate_person(det, "lifter", model, 1000.0, rig="mixamo", contacts=contacts)
            row[contacts] = (anim, pm, measure(pm.motion.positions, pm.motion.contacts, truth, fps))
        out[name] = row
        on, off = row[True][2], row[False][2]
        print(f"{name:7s} {fps} fps: slide {off['slide']:.1f} -> {on['slide']:.1f} mm/frame (truth {on['truth_slide']:.1f}); "
              f"root {off['root']:.0f} -> {on['root']:.0f} mm (p95 {on['root_p95']:.0f}); PA-MPJPE {off['pa']:.1f} -> "
              f"{on['pa']:.1f} mm; contact F1 {on['f1']:.2f}")
    return out


@pytest.mark.parametrize("name", list(CLIPS))
def test_planted_feet_stay_planted_and_anchor_the_root(results, name):
    """Slide <= 1.5 x the truth's + 1 mm; the root within 150 mm of the truth after one similarity alignment; the
    pose no worse than without contacts (PA-MPJPE within +0.5 mm); contacts found with F1 >= 0.85."""
    on, off = results[name][True][2], results[name][False][2]
    assert on["slide"] <= 1.5 * on["truth_slide"] + 1.0
    assert on["slide"] < off["slide"]
    assert on["root"] <= 150.0
    assert on["pa"] <= off["pa"] + 0.5
    assert on["f1"] >= 0.85


@pytest.mark.parametrize("name", list(CLIPS))
def test_no_foot_goes_through_the_floor(results, name):
    """The retargeted rig stands on the floor (height 0) where a foot is planted, and no foot point goes more than
    1 cm below it in any frame."""
    from mocap.retarget.solve import lowest_foot

    anim, pm, _ = results[name][True]
    lowest = lowest_foot(anim)
    planted = pm.motion.contacts.any(1)
    print(f"{name}: lowest foot point {1000 * lowest.min():.1f} mm, median when planted {1000 * np.median(lowest[planted]):.1f} mm")
    assert lowest.min() >= -0.010
    assert abs(np.median(lowest[planted])) <= 0.010


def test_jumps_stay_jumps(results):
    """Where both of the truth's feet are off the floor (the jumps' flights), the result is not planted and the rig's
    lowest foot point is in the air by at least half the truth's ankle rise there."""
    from mocap.retarget.solve import lowest_foot

    row = results["jumps"]
    truth, fps = row["truth"], row["fps"]
    anim, pm, m = row[True]
    air = ~m["truth_contacts"].any(1)
    assert air.sum() >= 20  # the clip has flights
    floor = estimate_floor(truth[:, ANKLES], fps, up=(0, 1, 0))
    rise = (heights(truth[:, ANKLES], floor) - standing_heights(truth[:, ANKLES], floor)).min(1)[air]
    lowest = lowest_foot(anim)[air]
    glued = pm.motion.contacts[air][:, ANKLES].any(1).mean()
    print(f"flight frames {air.sum()}: truth ankles rise {1000 * np.median(rise):.0f} mm, the rig's lowest foot "
          f"{1000 * np.median(lowest):.0f} mm; planted in {100 * glued:.0f} % of them")
    assert glued <= 0.15
    assert np.median(lowest) >= 0.5 * np.median(rise)


def test_off_keeps_the_old_path(results):
    """``contacts=False``: no contacts in the result (nothing found, nothing written)."""
    anim, pm, _ = results["walk"][False]
    assert pm.motion.contacts is None and "contacts" not in pm.quality


def test_blender_imports_the_jumps(results, tmp_path):
    """Blender's own BVH importer (bpy) reads the one-camera jumps as written: the hips where our rig puts them
    (within 0.1 mm), the toes never more than 1 cm under Blender's floor (Z = 0), and the flights in the air."""
    pytest.importorskip("bpy")
    from conftest import blender_joint_positions
    from mocap.io.bvh import write_bvh

    anim, pm, m = results["jumps"][True]
    out = tmp_path / "jumps.bvh"
    write_bvh(anim.to_bvh("cm"), out)
    frames = np.arange(0, anim.local.shape[0], 2)
    ref, fps, n = blender_joint_positions(out, 0.01, frames)
    assert n == anim.local.shape[0] and abs(fps - 50) < 0.5
    toes = np.minimum(ref["mixamorig:LeftToeBase"][:, 2], ref["mixamorig:RightToeBase"][:, 2])
    air = ~m["truth_contacts"].any(1)[frames]
    print(f"Blender: lowest toe {1000 * toes.min():.1f} mm, median toe height in flight {1000 * np.median(toes[air]):.0f} "
          f"mm, on the ground {1000 * np.median(toes[~air]):.0f} mm")
    assert toes.min() >= -0.010
    assert np.median(toes[air]) >= np.median(toes[~air]) + 0.10
    _, P = anim.global_transforms()
    blender = np.stack([P[frames, 0, 0], -P[frames, 0, 2], P[frames, 0, 1]], -1)  # Y-up -> Blender's Z-up
    np.testing.assert_allclose(ref["mixamorig:Hips"], blender, atol=1e-4)

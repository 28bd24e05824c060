"""Foot contacts and the floor (groundwork of contact-aware motion): real motion's feet, with and without noise."""
import numpy as np
import pytest

from conftest import MOCAP, need
from mocap.smooth.contacts import (contact_f1, detect_contacts, estimate_floor, floor_plane, foot_slide, heights,
                                   standing_heights)
from mocap.smooth.filters import butterworth
from mocap.testing.scenes import SKELETON, real_motion

FEET = [SKELETON.index(n) for n in ("left_ankle", "left_toe", "right_ankle", "right_toe")]
CLIPS = {"walk": "cmu_131/scaled_131_01.bvh", "jump": "extra/hht_cmu/jump/13_32.bvh",
         "karate": "extra/acrnn_cmu/martial/05.bvh"}


def test_floor_plane_finds_a_tilted_floor_among_outliers():
    rng = np.random.default_rng(0)
    n = np.array([0.05, -0.08, 1.0])
    n /= np.linalg.norm(n)
    xy = rng.uniform(-2, 2, (400, 2))
    on = np.c_[xy, (0.3 - xy @ n[:2]) / n[2]] + rng.normal(0, 0.005, (400, 3))
    off = rng.uniform([-2, -2, 0.2], [2, 2, 1.5], (200, 3))  # a third of the points elsewhere (feet in the air)
    normal, offset = floor_plane(np.concatenate([on, off]))
    assert np.degrees(np.arccos(np.clip(normal @ n, -1, 1))) < 0.5
    assert abs(offset - 0.3) < 0.005
    assert np.abs(heights(on, (normal, offset))).max() < 0.03


@pytest.mark.parametrize("clip", sorted(CLIPS))
def test_contacts_of_noisy_feet_match_the_truth(clip):
    """Feet as a good triangulation gives them (5 mm noise, then a 6 Hz low-pass): F1 >= 0.9 against the
    contacts of the true motion, the same floor within 1 cm, and no foot planted while both are in the air."""
    X = real_motion(need(MOCAP / CLIPS[clip]), 1200, start=4)
    feet = X[:, FEET]
    plane = estimate_floor(feet, 60.0)
    truth = detect_contacts(feet, 60.0, plane)
    rng = np.random.default_rng(1)
    noisy = butterworth((feet + rng.normal(0, 0.005, feet.shape)).reshape(len(X), -1), 60.0, 6.0).reshape(feet.shape)
    est = estimate_floor(noisy, 60.0)
    got = detect_contacts(noisy, 60.0, est)
    print(f"{clip}: truth in contact {100 * truth.mean():.0f} % of foot-frames, F1 {contact_f1(got, truth):.3f}, "
          f"floor {1000 * (est[1] - plane[1]):+.1f} mm")
    assert contact_f1(got, truth) >= 0.9
    assert abs(est[1] - plane[1]) < 0.01 and est[0] @ plane[0] > np.cos(np.radians(2))
    airborne = (heights(feet, plane) - standing_heights(feet, plane) > 0.10).all(1)  # both feet well up
    if clip == "jump":
        assert airborne.sum() > 50  # the clip really jumps
    assert not got[airborne].any()


def test_foot_slide_measures_the_movement_along_the_floor():
    T = 120
    feet = np.zeros((T, 1, 3))
    feet[:, 0, 0] = np.arange(T) * 0.002  # 2 mm per frame along the floor
    feet[:, 0, 2] = 0.01 * np.sin(np.arange(T))  # vertical wobble does not count
    contacts = np.ones((T, 1), bool)
    assert foot_slide(feet, contacts, (np.array([0, 0, 1.0]), 0.0))[0] == pytest.approx(0.002, abs=1e-9)
    assert np.isnan(foot_slide(feet, np.zeros((T, 1), bool), (np.array([0, 0, 1.0]), 0.0))[0])


def test_real_feet_barely_slide_when_planted():
    """The truth's own planted feet move ~0.5-1.8 mm per frame at 60 fps (the bar for contact-aware motion)."""
    X = real_motion(need(MOCAP / CLIPS["walk"]), 1200)
    plane = estimate_floor(X[:, FEET], 60.0)
    slide = foot_slide(X[:, FEET], detect_contacts(X[:, FEET], 60.0, plane), plane)
    assert np.all(slide < 0.003), slide


@pytest.mark.parametrize("clip", ["karate", "jump"])
def test_triangulate_smooth_holds_planted_feet(clip):
    """4 cameras, the detector-like errors of the tail scenes: `--smooth` with contacts (the default) brings the
    planted feet's slide within 1.5 x the truth's + 0.5 mm, costs no accuracy, and plants no foot in the air."""
    from mocap.associate.tracks import select_person
    from mocap.pipelines.options import TriangulationJob
    from mocap.pipelines.multiview import triangulate_job
    from mocap.testing.scenes import tail_scene

    X = real_motion(need(MOCAP / CLIPS[clip]), 600, start=4)
    plane = estimate_floor(X[:, FEET], 60.0)
    truth = detect_contacts(X[:, FEET], 60.0, plane)
    rig, data, _ = tail_scene(X, 4, seed=4)
    kp, _ = select_person(data, rig, SKELETON, 60.0, camera_names=list(rig.names))
    got = {c: triangulate_job(kp, rig, TriangulationJob(calib="scene", keypoints=[], smooth=True, contacts=c))
           for c in ("off", "auto")}
    mpjpe = {c: np.nanmean(np.linalg.norm(r.motion.positions - X, axis=-1)) * 1000 for c, r in got.items()}
    slide = {c: np.nanmedian(foot_slide(r.motion.positions[:, FEET], truth, plane)) * 1000 for c, r in got.items()}
    true_slide = np.nanmedian(foot_slide(X[:, FEET], truth, plane)) * 1000
    q = got["auto"].quality["contacts"]
    found = q["contacts"][:, [q["feet"].index(SKELETON.names[j]) for j in FEET]]
    print(f"{clip}: slide {slide['off']:.2f} -> {slide['auto']:.2f} mm/frame (truth {true_slide:.2f}); MPJPE "
          f"{mpjpe['off']:.2f} -> {mpjpe['auto']:.2f} mm; contact F1 {contact_f1(found, truth):.3f}")
    assert slide["auto"] <= 1.5 * true_slide + 0.5 < slide["off"]
    assert mpjpe["auto"] <= mpjpe["off"] + 0.5
    assert contact_f1(found, truth) >= 0.9
    airborne = (heights(X[:, FEET], plane) - standing_heights(X[:, FEET], plane) > 0.10).all(1)
    assert not found[airborne].any()
    assert "planted feet held along the floor" in " ".join(got["auto"].notes)


def test_planted_feet_anchor_a_path_that_wanders_along_the_ray():
    """A real walk seen from one camera whose depth wanders smoothly, as a refined lift's does (a random walk of 20 mm
    per frame along the line of sight, Gaussian-smoothed over 3 frames, the whole body): the offsets of
    :func:`mocap.smooth.anchor.anchor_offsets` from the true contacts stop the planted feet (slide within 0.5 mm of
    the truth's), bring the root closer to the truth and move it mostly along the ray."""
    from scipy.ndimage import gaussian_filter1d

    from pathlib import Path

    from mocap.lift.joints import LIFT_JOINTS
    from mocap.smooth.anchor import anchor_offsets, ray_priors
    from mocap.testing.scenes import one_camera_scene

    truth, _ = one_camera_scene(Path(__file__).parents[1] / "data" / "mocap" / "cmu_131" / "scaled_131_01.bvh", 30)
    ankles = [LIFT_JOINTS.index("left_ankle"), LIFT_JOINTS.index("right_ankle")]
    rng = np.random.default_rng(0)
    T = len(truth)
    ray = truth[:, 0] / np.linalg.norm(truth[:, 0], axis=-1, keepdims=True)  # the camera is at the origin
    err = gaussian_filter1d(np.cumsum(rng.normal(0, 0.020, T)), 3.0)
    noisy = truth + (err[:, None] * ray)[:, None]
    plane = estimate_floor(truth[:, ankles], 30.0, up=(0, 1, 0))
    contacts = detect_contacts(truth[:, ankles], 30.0, plane)
    d = anchor_offsets(noisy[:, ankles], contacts, 30.0, ray_priors(noisy[:, 0], np.zeros(3)))
    fixed = noisy + d[:, None]
    slide = {k: 1000 * np.nanmedian(foot_slide(X[:, ankles], contacts, plane)) for k, X in
             (("truth", truth), ("noisy", noisy), ("fixed", fixed))}
    root = {k: 1000 * np.linalg.norm(X[:, 0] - truth[:, 0], axis=-1).mean() for k, X in (("noisy", noisy), ("fixed", fixed))}
    along = (d * ray).sum(-1)
    across = np.linalg.norm(d - along[:, None] * ray, axis=-1)
    share = np.sqrt((across ** 2).mean() / (along ** 2).mean())
    print(f"slide mm/frame {slide}; root error mm {root}; offsets across / along the ray (rms) {share:.3f}")
    assert slide["fixed"] <= slide["truth"] + 0.5 < slide["noisy"]
    assert root["fixed"] < 0.8 * root["noisy"]
    assert share < 0.15

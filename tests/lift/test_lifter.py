"""The shipped lifter: weights load, the model card's validation number reproduces, inference works."""
import numpy as np
import pytest

from conftest import LIFT_VALIDATION, need

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.lift

from mocap.errors import MocapError  # noqa: E402
from mocap.lift.model import WEIGHTS, build_model, dilations_for, lift, load_model, model_frames, predict  # noqa: E402
from mocap.lift.train import evaluate_model, procrustes_errors, validation_set, warm_start  # noqa: E402
from mocap.lift.data import LIFT_JOINTS, load_clips, split  # noqa: E402


def test_procrustes_removes_similarity_exactly():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(20, 15, 3))
    from scipy.spatial.transform import Rotation
    R = Rotation.random(20, random_state=1).as_matrix()
    pred = 1.7 * np.einsum("nij,nkj->nki", R, gt) + rng.normal(size=(20, 1, 3))
    assert procrustes_errors(pred, gt).max() < 1e-9
    noisy = pred + rng.normal(0, 0.01, pred.shape)
    assert 0.001 < procrustes_errors(noisy, gt).mean() < 0.02


@pytest.fixture(scope="module")
def shipped():
    if not WEIGHTS.exists():
        pytest.fail(f"weights missing: {WEIGHTS}")
    return load_model()


def test_weights_ship_small_with_a_card(shipped):
    model, card = shipped
    assert WEIGHTS.stat().st_size < 10 * 2 ** 20
    assert card["joints"] == LIFT_JOINTS and card["validation"] and "pa_mpjpe_mm" in card["metrics"]
    assert not set(card["validation"]) & set(card["data"])


def test_card_validation_number_reproduces(shipped):
    model, card = shipped
    _, val = split(load_clips(need(LIFT_VALIDATION)))
    m = evaluate_model(model, *validation_set(val, frames=model_frames(model)))
    print("validation:", m, "card:", card["metrics"])
    # half-precision weights on disk: reproduce the card within 1 mm
    assert abs(m["pa_mpjpe_mm"] - card["metrics"]["pa_mpjpe_mm"]) < 1.0
    assert abs(m["mpjpe_mm"] - card["metrics"]["mpjpe_mm"]) < 1.0


def test_a_longer_receptive_field_starts_from_the_shorter_weights(shipped):
    """81 frames fine-tuned from 27-frame weights: the added block starts near silent, so before any step the
    longer model answers as the shorter one does (on a real held-out clip, well under a millimetre)."""
    start, _ = load_model(fuse=False)
    assert dilations_for(27) == (1, 3, 9) and dilations_for(81) == (1, 3, 9, 27) and model_frames(start) == 27
    with pytest.raises(MocapError, match="3 \\*\\* k"):
        dilations_for(50)
    frames = 81 if model_frames(start) == 27 else 243
    longer = build_model(causal=start.causal, norm=start.norm, dilations=dilations_for(frames))
    warm_start(longer, start)
    longer.eval()
    assert model_frames(longer) == frames
    _, val = split(load_clips(need(LIFT_VALIDATION)))
    X = val[0].joints[:150] * [1, -1, -1] + [0, 1.2, 4.0]
    seq = np.concatenate([X[..., :2] / X[..., 2:], np.ones(X.shape[:-1] + (1,))], -1)
    a, da = predict(start, seq)
    b, db = predict(longer, seq)
    gap = 1000 * np.linalg.norm(a - b, axis=-1).mean()
    print(f"{frames}-frame model warm-started from {model_frames(start)}: {gap:.2f} mm from its answers")
    assert gap < 1.0 and np.abs(np.log(da / db)).max() < 0.01
    # fewer frames than the receptive field: edge padding still answers for every frame
    short, _ = predict(longer, seq[:20])
    assert short.shape == (20, 15, 3) and np.isfinite(short).all()


def test_offline_ends_are_padded_with_plausible_motion(shipped):
    """The offline weights see the sequence mirrored in time beyond its ends (the causal ones the first frame
    repeated): at the first and last 13 frames of the held-out clips this is closer to the truth than a frozen
    end frame, and it is exactly the network on the explicitly mirrored sequence."""
    model, _ = shipped
    h = (model_frames(model) - 1) // 2
    _, val = split(load_clips(need(LIFT_VALIDATION)))
    gaps = []
    for c in val:
        X = c.joints[:120] - c.joints[:120, :1].mean(0) * [1, 0, 1]
        X = X * [1, -1, -1] + [0, 1.2, 4.0]
        seq = np.concatenate([X[..., :2] / X[..., 2:], np.ones(X.shape[:-1] + (1,))], -1)
        ours, _ = predict(model, seq)
        mirrored, _ = predict(model, np.pad(seq, ((h, h), (0, 0), (0, 0)), mode="reflect"), pad=False)
        frozen, _ = predict(model, np.pad(seq, ((h, h), (0, 0), (0, 0)), mode="edge"), pad=False)
        assert np.abs(ours - mirrored).max() < 1e-5
        ends, gt = np.r_[0:h, len(X) - h:len(X)], X - X[:, :1]
        gaps.append([1000 * procrustes_errors(r[ends], gt[ends]).mean() for r in (ours, frozen)])
    gaps = np.array(gaps)
    print(f"first and last {h} frames, PA-MPJPE: mirrored ends {gaps[:, 0].mean():.1f} mm, frozen {gaps[:, 1].mean():.1f} mm,"
          f" better on {int((gaps[:, 0] < gaps[:, 1]).sum())} of {len(gaps)} clips")
    assert gaps[:, 0].mean() < gaps[:, 1].mean() - 0.5 and (gaps[:, 0] <= gaps[:, 1]).mean() > 0.6


def test_lift_a_projected_sequence(shipped):
    model, _ = shipped
    _, val = split(load_clips(need(LIFT_VALIDATION)))
    X = val[0].joints[:120]  # Y-up metres, 30 fps
    X = X - X[:, :1].mean(0) * [1, 0, 1]
    # a camera 4 m in front, 1.2 m high, f = 1000 px
    Xc = X * [1, -1, -1] + [0, 1.2, 4.0]
    K = np.array([[1000.0, 0, 640], [0, 1000.0, 360], [0, 0, 1]])
    uv = Xc[..., :2] / Xc[..., 2:] * 1000 + [640, 360]
    kp = np.concatenate([uv, np.ones(uv.shape[:-1] + (1,))], -1)
    out = lift(kp, K, 30.0, model)
    assert out.shape == X.shape and np.isfinite(out).all()
    pa = procrustes_errors(out, Xc).mean()
    root = np.linalg.norm(out[:, 0] - Xc[:, 0], axis=-1).mean()
    print(f"PA-MPJPE {pa * 1000:.1f} mm, root position error {root * 1000:.0f} mm")
    assert pa < 0.08 and root < 0.6
    # frame-rate handling: 60 fps input gives the same answer at the shared frames
    kp60 = np.repeat(kp, 2, axis=0)
    out60 = lift(kp60, K, 60.0, model)
    assert out60.shape[0] == 2 * len(kp) and np.abs(out60[::2][5:-5] - out[5:-5]).mean() < 0.02


def test_ensemble_views_are_real_cameras_and_merge_back_exactly():
    """Each view of the test-time ensemble is what a rolled (and mirrored) camera would see of a body
    whose 3D is known; given those bodies as network answers, merging returns this camera's 3D."""
    from mocap.lift.model import ensemble_views, merge_views
    from mocap.lift.data import FLIP

    rng = np.random.default_rng(0)
    X = rng.normal(0, 0.3, (7, len(LIFT_JOINTS), 3)) + [0.2, -0.1, 4.0]  # camera frame, m
    seq = np.concatenate([X[..., :2] / X[..., 2:], np.ones(X.shape[:-1] + (1,))], -1)
    rolls = (-20.0, 0.0, 35.0)
    views, R = ensemble_views(seq, rolls, mirror=True)
    assert views.shape == (6,) + seq.shape and R.shape == (6, 3, 3)
    mirrored = X[:, FLIP] * [-1, 1, 1]
    bodies = np.stack([np.einsum("ij,tkj->tki", R[v], X if v < 3 else mirrored) for v in range(6)])
    np.testing.assert_allclose(views[..., :2], bodies[..., :2] / bodies[..., 2:], atol=1e-12)  # projections
    out = np.concatenate([(bodies - bodies[:, :, :1]).reshape(6, 7, -1), np.log(bodies[:, :, 0, 2:])], -1)
    rel, depth = merge_views(out, R, mirror=True)
    np.testing.assert_allclose(rel, X - X[:, :1], atol=1e-12)
    np.testing.assert_allclose(depth, X[:, 0, 2], rtol=1e-12)


def test_lift_cli_on_raw_openpose_with_spurious_people(tmp_path):
    """`mocap lift` on one Pose2Sim camera's raw OpenPose JSONs (BODY_25B, spurious people): the tracked
    person is the one Pose2Sim's association kept (same 3D within 5 mm: the floor and contacts, found on the whole
    clip, move with the few keypoints the two files differ in; another person would be metres off), and the lifted TRC agrees with
    the 4-camera triangulation (PA-MPJPE; this detector and camera are the hardest pair seen here)."""
    from conftest import CALIB, TRIAL
    from mocap.cli.main import main
    from mocap.io.calibration import read_calibration
    from mocap.io.keypoints import read_openpose_folders
    from mocap.io.motion import read_trc
    from mocap.lift.data import joints_from_motion
    from mocap.triangulate import triangulate

    rig = read_calibration(need(CALIB))
    cam = rig[0]
    lifted = {}
    for kind in ("pose", "pose-associated"):
        out = tmp_path / f"{kind}.trc"
        assert main(["lift", str(need(TRIAL / kind / "cam01_json")), "-o", str(out), "--fps", "60", "--focal",
                     str(cam.K[0, 0]), "--width", str(cam.size[0]), "--height", str(cam.size[1]), "-q"]) == 0
        lifted[kind] = joints_from_motion(read_trc(out))
    ours = lifted["pose"]
    same = np.linalg.norm(ours - lifted["pose-associated"], axis=-1)
    print(f"raw vs associated OpenPose: {1000 * np.nanmean(same):.1f} mm apart")
    assert np.nanmean(same) < 0.005
    assoc = read_openpose_folders(sorted((TRIAL / "pose-associated").glob("cam*_json")), fps=60).single()
    ref = joints_from_motion(triangulate(assoc, rig).motion)
    ok = np.isfinite(ours).all(axis=(1, 2)) & np.isfinite(ref).all(axis=(1, 2))
    pa = 1000 * procrustes_errors(ours[ok], ref[ok]).mean()
    print(f"lifted from raw OpenPose cam01: {ok.sum()} frames, PA-MPJPE {pa:.1f} mm vs the triangulation")
    assert ok.sum() >= 95 and pa < 100.0


def test_live_weights_reproduce_their_card_and_never_look_ahead():
    """The causal (live) weights ship too: their card's validation number reproduces, and changing the
    future never changes a frame's answer."""
    from mocap.lift.model import CAUSAL_WEIGHTS
    from mocap.lift.data import FPS

    if not CAUSAL_WEIGHTS.exists():
        pytest.fail(f"weights missing: {CAUSAL_WEIGHTS}")
    model, card = load_model(CAUSAL_WEIGHTS)
    assert card["causal"] and model.causal and CAUSAL_WEIGHTS.stat().st_size < 10 * 2 ** 20
    _, val = split(load_clips(need(LIFT_VALIDATION)))
    m = evaluate_model(model, *validation_set(val, causal=True, frames=model_frames(model)))
    print("live validation:", m, "card:", card["metrics"])
    assert abs(m["pa_mpjpe_mm"] - card["metrics"]["pa_mpjpe_mm"]) < 1.0
    assert abs(m["mpjpe_mm"] - card["metrics"]["mpjpe_mm"]) < 1.0
    X = val[0].joints[:90] * [1, -1, -1] + [0, 1.0, 4.0]  # camera frame, 4 m away
    K = np.array([[1000.0, 0, 640], [0, 1000.0, 360], [0, 0, 1]])
    kp = np.concatenate([X[..., :2] / X[..., 2:] * 1000 + [640, 360], np.ones(X.shape[:-1] + (1,))], -1)
    changed = kp.copy()
    changed[60:, :, :2] += 80.0  # a different future from frame 60 on
    a, b = lift(kp, K, FPS, model), lift(changed, K, FPS, model)
    assert np.abs(a[:60] - b[:60]).max() < 1e-5 and np.abs(a[60:] - b[60:]).max() > 0.01


@pytest.mark.shared
def test_training_runs_and_writes_loadable_weights(tmp_path):
    """`mocap lifter train` on the whole corpus (opt-in: needs ../shared): a few deterministic steps
    write weights with a card that load like the shipped ones."""
    from conftest import SHARED, need_shared
    from mocap.cli.main import main

    out = tmp_path / "w.pt"
    data = need_shared(SHARED / "mocap")
    assert main(["lifter", "train", "--data", str(data), "--steps", "60", "--seed", "0", "-o", str(out), "-q"]) == 0
    model, card = load_model(out)
    assert card["joints"] == LIFT_JOINTS and card["metrics"]["mpjpe_mm"] > 0


def test_missing_joints_are_never_resampled_towards_their_placeholder():
    """Resampling to the network's 30 fps never interpolates towards a missing joint's placeholder: it stays
    missing. (Interpolating across them cost +27 mm at 29.97 fps.)"""
    from mocap.lift.model import resample_keypoints

    seq = np.zeros((3, 1, 3))
    seq[:, 0] = [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [2.0, 2.0, 1.0]]
    r = resample_keypoints(seq, np.array([0.0, 1.0, 2.0]), np.array([0.0, 0.5, 1.0, 2.0]))
    np.testing.assert_array_equal(r[:, 0, 2], [1.0, 0.0, 0.0, 1.0])


def test_the_same_clip_at_real_frame_rates_lifts_alike(shipped):
    """Whole held-out clips (salsa, dance, karate, jump, soccer, run/leap) filmed at 25, 29.97, 30, 50, 59.94 and
    60 fps, detector-like 2D (sigma 3 px, 2 % outliers at normal confidence, 2 % missing, no ears), through the
    whole inference path at their own rate: the mean PA-MPJPE differs by at most 2 mm between frame rates.
    (Measured: 43.6 / 42.6 / 42.9 / 41.8 / 41.8 / 42.2 mm, spread 1.8 mm; without the pull toward the 2D rays
    48.1 / 47.2 / 47.5 / 46.7 / 46.6 / 47.0, spread 1.5 mm.)"""
    from mocap.lift.data import activity
    from mocap.lift.train import evaluate_clips

    model, _ = shipped
    _, val = split(load_clips(need(LIFT_VALIDATION)))
    clips = [c for c in val if activity(c.name) not in ("walk", "other")]
    assert len({activity(c.name) for c in clips}) >= 5
    pa = {fps: np.mean([r["pa_mm"] for r in evaluate_clips(model, clips, fps=fps)])
          for fps in (25.0, 29.97, 30.0, 50.0, 59.94, 60.0)}
    print("PA-MPJPE mm by frame rate:", {k: round(v, 1) for k, v in pa.items()})
    assert max(pa.values()) - min(pa.values()) <= 2.0
    assert max(pa.values()) < 60.0


def test_outliers_at_normal_confidence_barely_cost(shipped):
    """Detector-like 2D (sigma 3 px, 2 % missing, no ears: the nose stands in for the head) with and without
    2 % of joints anywhere in the image at normal confidence, whole held-out clips through the whole
    inference path (cleaning, ensemble): the outliers cost at most 3 mm PA-MPJPE."""
    from mocap.lift.train import DETECTOR_LIKE, evaluate_clips

    model, _ = shipped
    _, val = split(load_clips(need(LIFT_VALIDATION)))
    clips = [c for c in val if "007_" not in c.name or c.name.endswith("007_01.bvh")]
    base = evaluate_clips(model, clips, {**DETECTOR_LIKE, "outliers": 0.0})
    out = evaluate_clips(model, clips, DETECTOR_LIKE)
    a, b = np.mean([r["pa_mm"] for r in base]), np.mean([r["pa_mm"] for r in out])
    print("PA-MPJPE mm without / with 2 % outliers:", {r["clip"]: (round(r["pa_mm"], 1), round(s["pa_mm"], 1))
                                                       for r, s in zip(base, out)}, f"mean {a:.1f} / {b:.1f}")
    assert b - a <= 3.0


@pytest.mark.parametrize("weights", ["offline", "causal"])
def test_held_out_activities_meet_the_acceptance(weights):
    """Issue 17's acceptance, whole held-out clips of five activities other than walking (salsa, dance, karate,
    jump, soccer, run/leap; never trained on), detector-like 2D (sigma 3 px, 2 % outliers anywhere at normal
    confidence, 2 % missing, no ears), the whole inference path: mean PA-MPJPE <= 45 mm and no clip above 70
    (offline), <= 50 mm (causal). Pulling each joint toward its 2D ray (depth kept) is what gets there: without
    it the same weights give 47.2 and 52.0 mm. (Measured: 42.9 / max 55.9 mm and 49.6 mm.)"""
    from mocap.lift.data import activity
    from mocap.lift.model import CAUSAL_WEIGHTS
    from mocap.lift.train import DETECTOR_LIKE, evaluate_clips

    model, _ = load_model(CAUSAL_WEIGHTS if weights == "causal" else WEIGHTS)
    _, val = split(load_clips(need(LIFT_VALIDATION)))
    clips = [c for c in val if activity(c.name) not in ("walk", "other")]
    assert len({activity(c.name) for c in clips}) >= 5
    rows = evaluate_clips(model, clips, DETECTOR_LIKE)
    plain = evaluate_clips(model, clips, DETECTOR_LIKE, rays=0.0)
    pa, pa0 = np.array([r["pa_mm"] for r in rows]), np.array([r["pa_mm"] for r in plain])
    print(f"{weights}: PA-MPJPE per clip {np.round(pa, 1).tolist()}, mean {pa.mean():.1f} mm "
          f"(network alone {pa0.mean():.1f})")
    assert pa.mean() <= (50.0 if weights == "causal" else 45.0) and pa.max() <= 70.0
    assert pa.mean() < pa0.mean() - 1.5 and (pa <= pa0 + 0.5).all()

"""The VMC protocol: what a rig pose becomes on the wire, parsed back by python-osc's own OSC parser."""
import time

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

pytest.importorskip("pythonosc")
from pythonosc.osc_bundle import OscBundle  # noqa: E402
from pythonosc.osc_message import OscMessage  # noqa: E402

from mocap.io.vmc import (HUMAN_BODY_BONES, decode_frame, encode_bundle, frame_messages,  # noqa: E402
                          from_unity_quaternions, to_unity_quaternions)
from mocap.retarget.rigs import END_SITES, FINGER_BONES, ROLES, roles as rig_roles  # noqa: E402

# Unity's HumanBodyBones enum (the names a VMC receiver maps to its avatar)
UNITY_HUMAN_BODY_BONES = {
    "Hips", "LeftUpperLeg", "RightUpperLeg", "LeftLowerLeg", "RightLowerLeg", "LeftFoot", "RightFoot", "Spine", "Chest",
    "UpperChest", "Neck", "Head", "LeftShoulder", "RightShoulder", "LeftUpperArm", "RightUpperArm", "LeftLowerArm",
    "RightLowerArm", "LeftHand", "RightHand", "LeftToes", "RightToes", "LeftEye", "RightEye", "Jaw",
} | {f"{side}{finger}{part}" for side in ("Left", "Right") for finger in ("Thumb", "Index", "Middle", "Ring", "Little")
     for part in ("Proximal", "Intermediate", "Distal")}


def test_bone_names_are_unity_human_body_bones_and_cover_the_rig():
    assert set(HUMAN_BODY_BONES.values()) <= UNITY_HUMAN_BODY_BONES
    assert set(HUMAN_BODY_BONES) == {r for r, _ in ROLES if r not in END_SITES} | FINGER_BONES
    assert len(set(HUMAN_BODY_BONES.values())) == len(HUMAN_BODY_BONES) == 22 + 30
    assert HUMAN_BODY_BONES["left_thumb1"] == "LeftThumbProximal" and HUMAN_BODY_BONES["right_pinky3"] == "RightLittleDistal"


def test_unity_handedness_round_trip_and_mirror():
    R = Rotation.random(50, random_state=0).as_matrix()
    np.testing.assert_allclose(from_unity_quaternions(to_unity_quaternions(R)), R, atol=1e-12)
    # a rotation about our +Y (up) turns the other way in Unity's mirrored (left-handed) frame: same axis, angle
    # flipped, as M R M with M = diag(-1, 1, 1) says
    q = to_unity_quaternions(Rotation.from_euler("y", 30, degrees=True).as_matrix())
    np.testing.assert_allclose(q, Rotation.from_euler("y", -30, degrees=True).as_quat(), atol=1e-12)
    M = np.diag([-1.0, 1, 1])
    U = Rotation.from_quat(to_unity_quaternions(R)).as_matrix()
    np.testing.assert_allclose(U, M @ R @ M, atol=1e-12)


@pytest.mark.parametrize("hands", [False, True])
def test_a_frame_on_the_wire_matches_the_spec(hands):
    roles = [r for r, _ in rig_roles(hands)]
    rng = np.random.default_rng(1)
    local = Rotation.random(len(roles), random_state=2).as_matrix()
    offsets = rng.normal(0, 0.1, (len(roles), 3))
    root = np.array([0.3, 0.95, -1.2])
    dgram = encode_bundle(frame_messages(roles, local, root, offsets, t=1.25))
    assert OscBundle.dgram_is_bundle(dgram)
    msgs = [m for m in OscBundle(dgram)]
    assert all(isinstance(m, OscMessage) for m in msgs)
    by = {}
    for m in msgs:
        by.setdefault(m.address, []).append(m)
    assert len(by["/VMC/Ext/Bone/Pos"]) == (52 if hands else 22)  # the body's bones, and the fingers when the rig has them
    for m in by["/VMC/Ext/Bone/Pos"] + by["/VMC/Ext/Root/Pos"]:
        assert b",sfffffff\0\0\0" in m.dgram  # type tags: a string then 7 float32
    assert b",i\0\0" in by["/VMC/Ext/OK"][0].dgram and by["/VMC/Ext/OK"][0].params == [1]
    assert b",f\0\0" in by["/VMC/Ext/T"][0].dgram and by["/VMC/Ext/T"][0].params == [1.25]
    frame = decode_frame([(m.address, m.params) for m in msgs])
    for j, r in enumerate(roles):
        if r in HUMAN_BODY_BONES:
            pos, rot = frame["bones"][HUMAN_BODY_BONES[r]]
            np.testing.assert_allclose(rot, local[j], atol=1e-6)  # float32 on the wire
            if r != "pelvis":
                np.testing.assert_allclose(pos, offsets[j], atol=1e-6)
    np.testing.assert_allclose(frame["root"], root + offsets[0], atol=1e-6)
    assert frame["t"] == 1.25


@pytest.mark.bpy
@pytest.mark.parametrize("hands", [False, True])
def test_blender_addon_receives_the_stream_and_poses_the_armature(tmp_path, hands):
    """The add-on (as `mocap blender-addon` zips it) loaded in Blender (bpy): a Mixamo-named armature imported
    from our BVH (T-pose rest) is posed from VMC bundles sent over loopback UDP, through its operator, timer and
    recording path; every bone head lands where our forward kinematics puts the sent pose (< 1 cm). With ``hands``
    the motion carries both hands (mocap.testing.hands) and the 30 finger bones go over the wire too."""
    import importlib.util
    import socket

    bpy = pytest.importorskip("bpy")
    from conftest import FILE_TO_BLENDER, LIFT_VALIDATION, need
    from mocap.cli.live import ADDON
    from mocap.core.motion import Motion3D
    from mocap.core.skeletons import skeleton_from_names
    from mocap.io.bvh import write_bvh
    from mocap.lift.data import LIFT_JOINTS, load_clips, split
    from mocap.retarget.solve import retarget
    from mocap.core.skeletons import with_hands
    from mocap.testing.hands import attach_hands

    YUP_TO_ZUP = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # (x, y, z) Y-up -> (x, -z, y) Z-up

    clip = split(load_clips(need(LIFT_VALIDATION)))[1][0]  # held-out motion: the poses the stream carries
    X = clip.joints[:60:20] + [0.4, 0.0, -0.3]  # three frames, off the origin
    sk = skeleton_from_names(LIFT_JOINTS, "lift15")
    if hands:  # the synthetic hands on the wrists, bending their fingers
        X = attach_hands(clip.joints[:60] @ YUP_TO_ZUP.T, LIFT_JOINTS, 30.0)[::20] @ YUP_TO_ZUP + [0.4, 0.0, -0.3]
        sk = with_hands(sk, "lift15_hands")
    anim = retarget(Motion3D(X, sk, 30.0, up="y"), "mixamo")
    assert anim.hands == hands
    rest = anim.__class__(anim.rig, np.tile(np.eye(3), (1, len(anim.roles), 1, 1)), anim.root[:1] * 0,
                          anim.offsets, anim.fps, anim.proportions, anim.kept[:1])
    write_bvh(rest.to_bvh("m"), tmp_path / "rig.bvh")  # the armature: our rig in its T-pose rest
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_anim.bvh(filepath=str(tmp_path / "rig.bvh"), global_scale=1.0, axis_forward="-Z", axis_up="Y")
    arm = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
    arm.animation_data_clear()

    spec = importlib.util.spec_from_file_location("mocap_vmc", ADDON / "__init__.py")
    addon = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(addon)
    addon.register()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        props = bpy.context.scene.mocap_vmc
        props.armature, props.port, props.record = arm, port, True
        assert bpy.ops.mocap.vmc_start() == {"FINISHED"}
        _, P = anim.global_transforms()
        roles = anim.roles
        names = {j: anim.rig.names[r] for j, r in enumerate(roles) if r in anim.rig.names}
        worst = 0.0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for k in range(len(X)):
                tx.sendto(encode_bundle(frame_messages(roles, anim.local[k], anim.root[k], anim.offsets, t=k / 30)),
                          ("127.0.0.1", port))
                time.sleep(0.05)
                bpy.context.scene.frame_set(k + 1)
                addon._tick()  # what Blender's timer calls (timers do not run in background mode)
                bpy.context.view_layer.update()
                for j, name in names.items():
                    got = np.array(arm.matrix_world @ arm.pose.bones[name].head)
                    worst = max(worst, float(np.linalg.norm(got - FILE_TO_BLENDER @ P[k, j])))
        print(f"Blender armature vs sent pose: worst bone head {1000 * worst:.3f} mm over {len(X)} frames "
              f"({len(names)} bones)")
        assert sum(r in FINGER_BONES for r in (roles[j] for j in names)) == (30 if hands else 0)
        assert worst < 0.01
        action = arm.animation_data.action
        assert action is not None and bpy.context.scene.frame_current == len(X) + 1  # recorded and stepped on
        assert bpy.ops.mocap.vmc_stop() == {"FINISHED"}
    finally:
        addon.unregister()

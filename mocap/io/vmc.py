"""The VMC protocol (Virtual Motion Capture, OSC over UDP): what a rig pose becomes on the wire.

Receivers: EVMC4U (Unity), VMC4UE (Unreal), VSeeFace, our Blender add-on (``mocap blender-addon``). One frame is
one OSC bundle of

- ``/VMC/Ext/Root/Pos`` ``s f f f f f f f``: ``"root"``, position (m) and rotation (quaternion x, y, z, w);
- ``/VMC/Ext/Bone/Pos`` ``s f f f f f f f`` per bone: its Unity ``HumanBodyBones`` name, local position (m, the
  bone's offset from its parent) and local rotation (quaternion x, y, z, w) relative to the T-pose;
- ``/VMC/Ext/OK`` ``i``: 1 (a model is loaded and tracked);
- ``/VMC/Ext/T`` ``f``: the sender's time, s (here: the frame's capture time since the stream started).

Coordinates are Unity's: left-handed, Y up, the character facing +Z with its right hand towards +X. Our rigs
(:mod:`mocap.retarget.rigs`) are right-handed, Y up, facing +Z with the left hand towards +X: a mirror of x,
so positions map as ``(x, y, z) -> (-x, y, z)`` and a rotation ``R`` as ``M R M`` with ``M = diag(-1, 1, 1)``,
i.e. quaternions ``(x, y, z, w) -> (x, -y, -z, w)``. The hips' local position is the root position.
"""
from __future__ import annotations

import socket

import numpy as np

from ..errors import MocapError

DEFAULT_PORT = 39539
ROOT_ADDRESS, BONE_ADDRESS, OK_ADDRESS, TIME_ADDRESS = "/VMC/Ext/Root/Pos", "/VMC/Ext/Bone/Pos", "/VMC/Ext/OK", "/VMC/Ext/T"

# rig role (mocap.retarget.rigs.ROLES) -> Unity HumanBodyBones name
HUMAN_BODY_BONES = {
    "pelvis": "Hips", "spine1": "Spine", "spine2": "Chest", "spine3": "UpperChest", "neck": "Neck", "head": "Head",
    "left_collar": "LeftShoulder", "left_shoulder": "LeftUpperArm", "left_elbow": "LeftLowerArm",
    "left_wrist": "LeftHand", "right_collar": "RightShoulder", "right_shoulder": "RightUpperArm",
    "right_elbow": "RightLowerArm", "right_wrist": "RightHand", "left_hip": "LeftUpperLeg",
    "left_knee": "LeftLowerLeg", "left_ankle": "LeftFoot", "left_toe": "LeftToes", "right_hip": "RightUpperLeg",
    "right_knee": "RightLowerLeg", "right_ankle": "RightFoot", "right_toe": "RightToes",
}
# the finger bones (mocap.retarget.rigs.FINGER_BONES): thumb 1-3 (its carpometacarpal, metacarpophalangeal and
# interphalangeal joints) and each finger's 1-3 (knuckle, middle, end joint) are Unity's Proximal, Intermediate, Distal
UNITY_FINGERS = {"thumb": "Thumb", "index": "Index", "middle": "Middle", "ring": "Ring", "pinky": "Little"}
HUMAN_BODY_BONES.update({f"{s}_{f}{k}": f"{s.title()}{u}{part}" for s in ("left", "right") for f, u in UNITY_FINGERS.items()
                         for k, part in ((1, "Proximal"), (2, "Intermediate"), (3, "Distal"))})
UNITY_MIRROR = np.diag([-1.0, 1.0, 1.0])


def to_unity_positions(p: np.ndarray) -> np.ndarray:
    """``(..., 3)`` metres in a rig's frame -> Unity's frame (x mirrored)."""
    return np.asarray(p, float) * [-1.0, 1.0, 1.0]


def to_unity_quaternions(R: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` rotations in a rig's frame -> ``(..., 4)`` Unity quaternions (x, y, z, w)."""
    from scipy.spatial.transform import Rotation  # here: importing the protocol's names stays light

    q = Rotation.from_matrix(np.asarray(R, float).reshape(-1, 3, 3)).as_quat()
    return (q * [1.0, -1.0, -1.0, 1.0]).reshape(np.shape(R)[:-2] + (4,))


def from_unity_quaternions(q: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_unity_quaternions`: ``(..., 4)`` (x, y, z, w) -> ``(..., 3, 3)`` in a rig's frame."""
    q = np.asarray(q, float)
    from scipy.spatial.transform import Rotation

    return Rotation.from_quat((q * [1.0, -1.0, -1.0, 1.0]).reshape(-1, 4)).as_matrix().reshape(q.shape[:-1] + (3, 3))


def frame_messages(roles: list[str], local: np.ndarray, root: np.ndarray, offsets: np.ndarray, *, t: float
                   ) -> list[tuple[str, list]]:
    """One rig pose as VMC messages ``[(address, arguments)]``: ``local (J, 3, 3)`` rotations of the rig's
    ``roles`` (:data:`mocap.retarget.rigs.ROLES`; end sites are skipped), ``root (3,)`` the hips' position, m,
    ``offsets (J, 3)`` the rest offsets, m, and ``t`` s. Every :data:`HUMAN_BODY_BONES` role is sent (the finger
    bones when the rig has them, :func:`mocap.retarget.rigs.roles` with hands)."""
    idx = [j for j, r in enumerate(roles) if r in HUMAN_BODY_BONES]
    q = to_unity_quaternions(local[idx])
    pos = to_unity_positions(offsets[idx])
    hips = roles.index("pelvis")
    pos[idx.index(hips)] = to_unity_positions(root + offsets[hips])  # the hips where the rig puts them
    root_args = ["root", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    out = [(ROOT_ADDRESS, root_args)]
    out += [(BONE_ADDRESS, [HUMAN_BODY_BONES[roles[j]], *map(float, pos[k]), *map(float, q[k])])
            for k, j in enumerate(idx)]
    return out + [(OK_ADDRESS, [1]), (TIME_ADDRESS, [float(t)])]


def encode_bundle(messages: list[tuple[str, list]]) -> bytes:
    """VMC messages -> one OSC bundle (python-osc: ``s`` for str, ``i`` for int, ``f`` for float, as the
    protocol types them), timed 'immediately'."""
    try:
        from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
        from pythonosc.osc_message_builder import OscMessageBuilder
    except ImportError:
        raise MocapError("sending VMC needs python-osc (pip install 'mocap-pipeline[live]')") from None

    bundle = OscBundleBuilder(IMMEDIATELY)
    for address, args in messages:
        msg = OscMessageBuilder(address)
        for a in args:
            msg.add_arg(a, "s" if isinstance(a, str) else "i" if isinstance(a, int) else "f")
        bundle.add_content(msg.build())
    return bundle.build().dgram


def decode_frame(messages: list[tuple[str, list]]) -> dict:
    """What a receiver makes of one frame's messages: ``{"root": (3,) m, "bones": {name: (position (3,),
    rotation (3, 3))}, "t": s}`` in a rig's frame (Unity's mirror undone)."""
    out = {"bones": {}, "t": None, "root": None}
    for address, args in messages:
        if address == BONE_ADDRESS:
            name, v = args[0], np.asarray(args[1:8], float)
            out["bones"][name] = (to_unity_positions(v[:3]), from_unity_quaternions(v[3:]))
        elif address == TIME_ADDRESS:
            out["t"] = float(args[0])
    if "Hips" in out["bones"]:
        out["root"] = out["bones"]["Hips"][0]
    return out


def parse_endpoint(value) -> tuple[str, int] | None:
    """``HOST:PORT`` (or ``PORT``, or ``none``; a ``(host, port)`` pair as it is) -> ``(host, port)`` or ``None``
    (do not send); anything else is a :class:`MocapError` saying what is expected."""
    from ..errors import MocapError

    if value is None or isinstance(value, tuple):
        return value
    if str(value).lower() == "none":
        return None
    host, _, port = str(value).rpartition(":")
    try:
        port_n = int(port)
    except ValueError:
        raise MocapError(f"takes HOST:PORT (e.g. 127.0.0.1:{DEFAULT_PORT})") from None
    if not 0 < port_n < 65536:
        raise MocapError("port must be 1-65535")
    return (host.strip("[]") or "127.0.0.1"), port_n


class VMCSender:
    """VMC bundles over UDP to ``(host, port)``. The socket is connected, so a receiver that is not listening on
    this machine shows as refused packets (counted), not as silence."""

    def __init__(self, host: str, port: int):
        self.address = f"{host}:{port}"
        try:
            self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.connect((host, int(port)))
        except OSError as e:
            raise MocapError(f"cannot send to {host}:{port} ({e.strerror or e})") from None
        self.sent = self.refused = 0

    def send(self, data: bytes) -> bool:
        try:
            self.sock.send(data)
        except (ConnectionRefusedError, ConnectionResetError):
            self.refused += 1
            return False
        except OSError as e:
            raise MocapError(f"sending to {self.address} failed ({e.strerror or e})") from None
        self.sent += 1
        return True

    def close(self) -> None:
        self.sock.close()

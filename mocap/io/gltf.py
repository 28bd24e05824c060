"""Animated glTF 2.0 (``.glb`` binary, ``.gltf`` JSON with a ``.bin`` beside it): a skeleton, a skinned mannequin
and one animation, written with ``pygltflib`` and numpy.

Conventions (glTF's own): metres, Y-up, the character facing +Z; a node's transform is ``T @ R`` (translation,
then rotation, no scale), the same as a BVH joint's ``translate(offset) @ R_local``. Every joint is a node (end
sites too, as leaf nodes, so a bone's tail is known); the rest pose has no rotation, so each joint's inverse bind
matrix is a translation by minus its rest position. The mannequin is one capsule per bone, rigidly skinned to the
bone's parent joint; the mesh's node sits at the scene's root (the skin, not a parent, moves it). One animation:
every joint that is not an end site gets a rotation channel, the root a translation channel too, linear
interpolation, keyframes at ``frame / fps`` seconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..core.kinematics import forward_kinematics
from ..errors import MocapError
from .atomic import atomic_path

# glTF's enumerations (the specification's numbers)
FLOAT, UNSIGNED_SHORT, UNSIGNED_INT = 5126, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963


@dataclass
class Armature:
    """A joint tree at rest, in metres (Y-up, facing +Z).

    names: ``J`` node names (unique); parents: ``(J,)`` int, -1 for the root (one root, parents before children);
    offsets: ``(J, 3)`` rest translation from the parent (the root's: from the origin); end_sites: ``(J,)`` bool,
    leaf nodes that carry no animation; radii: ``(J,)`` the mannequin's capsule radius on the bones from each joint
    to its children (0: no capsule)."""

    names: list[str]
    parents: np.ndarray
    offsets: np.ndarray
    end_sites: np.ndarray
    radii: np.ndarray

    def rest_positions(self) -> np.ndarray:
        """``(J, 3)`` joint positions at rest (no rotation: :func:`~mocap.core.kinematics.forward_kinematics` of the
        offsets)."""
        J = len(self.names)
        return forward_kinematics(self.parents, np.broadcast_to(np.eye(3), (1, J, 3, 3)), self.offsets)[1][0]


def continuous_quaternions(R: np.ndarray) -> np.ndarray:
    """``(T, J, 3, 3)`` rotations -> ``(T, J, 4)`` unit quaternions ``(x, y, z, w)`` (glTF's order), each joint's on
    one side of the sphere from frame to frame (``q`` and ``-q`` are the same turn; linear interpolation between
    keyframes then takes the short way)."""
    T, J = R.shape[:2]
    q = Rotation.from_matrix(R.reshape(-1, 3, 3)).as_quat().reshape(T, J, 4)
    flip = np.sum(q[1:] * q[:-1], axis=-1) < 0
    sign = np.concatenate([np.ones((1, J)), np.cumprod(np.where(flip, -1.0, 1.0), axis=0)])
    return q * sign[..., None]


def capsules(armature: Armature, segments: int = 8, rings: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The mannequin at rest: ``(V, 3)`` positions, ``(V, 3)`` unit normals, ``(V,)`` joint (the bone's parent) and
    ``(F, 3)`` triangles, one capsule per bone with a radius > 0 (``segments`` around, ``rings`` per end cap)."""
    P = armature.rest_positions()
    bones = [(int(p), j) for j, p in enumerate(armature.parents)
             if p >= 0 and armature.radii[p] > 0 and np.linalg.norm(armature.offsets[j]) > 1e-6]
    if not bones:
        return np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0, int), np.zeros((0, 3), int)
    a, b = np.array(bones).T
    r = armature.radii[a]
    axis = P[b] - P[a]
    length = np.linalg.norm(axis, axis=-1)
    axis /= length[:, None]
    u = np.cross(axis, np.where(np.abs(axis[:, 1:2]) < 0.9, [[0.0, 1.0, 0.0]], [[1.0, 0.0, 0.0]]))
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    w = np.cross(axis, u)
    # latitudes from the lower pole to the upper one; the lower cap centred on the bone's start, the upper on its end
    lat = np.concatenate([np.linspace(-np.pi / 2, 0, rings + 1)[1:], np.linspace(0, np.pi / 2, rings + 1)[:-1]])
    top = np.concatenate([np.zeros(rings), np.ones(rings)])
    theta = 2 * np.pi * np.arange(segments) / segments
    ring_dir = (np.cos(theta)[None, :, None] * u[:, None] + np.sin(theta)[None, :, None] * w[:, None])  # (B, S, 3)
    n_ring = (np.cos(lat)[None, :, None, None] * ring_dir[:, None]
              + np.sin(lat)[None, :, None, None] * axis[:, None, None])  # (B, L, S, 3)
    centre = P[a][:, None, None] + (top * length[:, None])[:, :, None, None] * axis[:, None, None]
    ring_pos = centre + r[:, None, None, None] * n_ring
    B, L, S = len(a), len(lat), segments
    poles_n = np.stack([-axis, axis], axis=1)  # (B, 2, 3)
    poles_p = np.stack([P[a], P[b]], axis=1) + r[:, None, None] * poles_n
    pos = np.concatenate([ring_pos.reshape(B, L * S, 3), poles_p], axis=1)
    nrm = np.concatenate([n_ring.reshape(B, L * S, 3), poles_n], axis=1)
    faces = _capsule_faces(L, S)
    nv = L * S + 2
    tri = faces[None] + (np.arange(B) * nv)[:, None, None]
    return (pos.reshape(-1, 3), nrm.reshape(-1, 3), np.repeat(a, nv), tri.reshape(-1, 3))


def _capsule_faces(L: int, S: int) -> np.ndarray:
    """``(F, 3)`` triangles of one capsule whose vertices are ``L`` rings of ``S`` then the lower and upper pole,
    wound counter-clockwise seen from outside."""
    k = np.arange(S)
    k1 = (k + 1) % S
    i = np.arange(L - 1)[:, None]
    quads_a = np.stack([i * S + k, (i + 1) * S + k1, (i + 1) * S + k], -1)
    quads_b = np.stack([i * S + k, i * S + k1, (i + 1) * S + k1], -1)
    low = np.stack([np.full(S, L * S), k1, k], -1)
    up = np.stack([np.full(S, L * S + 1), (L - 1) * S + k, (L - 1) * S + k1], -1)
    return np.concatenate([quads_a.reshape(-1, 3), quads_b.reshape(-1, 3), low, up])


class _Buffer:
    """The binary buffer and its accessors, built a piece at a time: each piece 4-byte aligned, one buffer view per
    piece, any number of accessors into a view."""

    def __init__(self, g):
        self.g, self.parts, self.size, self.views, self.accessors = g, [], 0, [], []

    def add(self, array: np.ndarray, target: int | None = None, stride: int | None = None) -> int:
        """A buffer view holding ``array`` (C order); its index."""
        data = np.ascontiguousarray(array).tobytes()
        self.views.append(dict(buffer=0, byteOffset=self.size, byteLength=len(data), target=target,
                               byteStride=stride))
        pad = (-len(data)) % 4
        self.parts += [data, b"\0" * pad]
        self.size += len(data) + pad
        return len(self.views) - 1

    def accessor(self, view: int, ctype: int, count: int, kind: str, *, offset: int = 0, minmax=None) -> int:
        """An accessor of ``count`` elements of ``kind`` ("SCALAR", "VEC3" ...) at ``offset`` bytes into ``view``;
        ``minmax``: its ``(min, max)`` lists where glTF asks for them. Its index."""
        self.accessors.append(self.g.Accessor(bufferView=view, byteOffset=offset, componentType=ctype, count=count,
                                              type=kind, **({"min": minmax[0], "max": minmax[1]} if minmax else {})))
        return len(self.accessors) - 1

    def bytes(self) -> bytes:
        return b"".join(self.parts)


def write_gltf(path: str | Path, armature: Armature, local: np.ndarray, root: np.ndarray, *, fps: float) -> int:
    """Write an animated glTF: ``.glb`` (one file) or ``.gltf`` (JSON, and its buffer as ``<stem>.bin`` beside it),
    atomically. ``local (T, J, 3, 3)``: each joint's rotation in its parent's frame per frame (end sites' ignored);
    ``root (T, 3)``: the root's translation per frame, metres; ``fps`` > 0. Returns the bytes written."""
    import pygltflib as g

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".glb", ".gltf"):
        raise MocapError("a glTF file ends in .glb or .gltf", path)
    T, J = local.shape[:2]
    if T < 1 or root.shape != (T, 3) or J != len(armature.names) or not fps > 0:
        raise MocapError(f"glTF: {T} frames of {J} joints for {len(armature.names)} names, root {root.shape}, "
                         f"fps {fps}: they do not match", path)
    buf = _Buffer(g)
    mesh_attrs, skin_ibm = _mesh_and_skin(buf, armature)
    animation = _animation(buf, armature, local, root, fps=fps)
    nodes = [g.Node(name=n, translation=[float(v) for v in o], children=[]) for n, o in zip(armature.names,
                                                                                            armature.offsets)]
    for j, p in enumerate(armature.parents):
        if p >= 0:
            nodes[p].children.append(j)
    roots = [j for j, p in enumerate(armature.parents) if p < 0]
    nodes.append(g.Node(name="mannequin", mesh=0, skin=0))
    buffer = buf.bytes()
    doc = g.GLTF2(
        asset=g.Asset(version="2.0", generator="mocap"),
        scene=0, scenes=[g.Scene(name="mocap", nodes=roots + [len(nodes) - 1])], nodes=nodes,
        meshes=[g.Mesh(name="mannequin", primitives=[g.Primitive(attributes=g.Attributes(**mesh_attrs[0]),
                                                                 indices=mesh_attrs[1], material=0)])],
        materials=[g.Material(name="mannequin", pbrMetallicRoughness=g.PbrMetallicRoughness(
            baseColorFactor=[0.62, 0.66, 0.72, 1.0], metallicFactor=0.0, roughnessFactor=0.8))],
        skins=[g.Skin(name="armature", joints=list(range(J)), skeleton=roots[0], inverseBindMatrices=skin_ibm)],
        animations=[animation], accessors=buf.accessors,
        bufferViews=[g.BufferView(**{k: v for k, v in bv.items() if v is not None}) for bv in buf.views],
        buffers=[g.Buffer(byteLength=len(buffer))])
    return _save(doc, buffer, path)


def _save(doc, buffer: bytes, path: Path) -> int:
    """The document as GLB, or as glTF JSON with ``<stem>.bin`` (both atomic); bytes written."""
    if path.suffix.lower() == ".glb":
        doc.set_binary_blob(buffer)
        data = b"".join(doc.save_to_bytes())
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        return len(data)
    bin_path = path.with_suffix(".bin")
    doc.buffers[0].uri = bin_path.name
    text = doc.to_json(indent=1)
    with atomic_path(bin_path) as tmp:
        tmp.write_bytes(buffer)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return len(buffer) + len(text)


def _mesh_and_skin(buf: _Buffer, armature: Armature) -> tuple[tuple[dict, int], int]:
    """The mannequin's vertex attributes (positions, normals, joints, weights) and triangles, and the skin's inverse
    bind matrices, into ``buf``: ``((attributes, indices accessor), inverse bind matrices accessor)``."""
    pos, nrm, joint, tri = capsules(armature)
    V = len(pos)
    pos32 = pos.astype(np.float32)
    attrs = {"POSITION": buf.accessor(buf.add(pos32, ARRAY_BUFFER, 12), FLOAT, V, "VEC3",
                                  minmax=(pos32.min(0).tolist(), pos32.max(0).tolist())),
             "NORMAL": buf.accessor(buf.add(nrm.astype(np.float32), ARRAY_BUFFER, 12), FLOAT, V, "VEC3")}
    joints = np.zeros((V, 4), np.uint16)
    joints[:, 0] = joint
    weights = np.zeros((V, 4), np.float32)
    weights[:, 0] = 1.0
    attrs["JOINTS_0"] = buf.accessor(buf.add(joints, ARRAY_BUFFER, 8), UNSIGNED_SHORT, V, "VEC4")
    attrs["WEIGHTS_0"] = buf.accessor(buf.add(weights, ARRAY_BUFFER, 16), FLOAT, V, "VEC4")
    idx = tri.astype(np.uint32 if V > 65535 else np.uint16).ravel()
    indices = buf.accessor(buf.add(idx, ELEMENT_ARRAY_BUFFER), UNSIGNED_INT if V > 65535 else UNSIGNED_SHORT,
                       len(idx), "SCALAR")
    J = len(armature.names)
    ibm = np.broadcast_to(np.eye(4, dtype=np.float32), (J, 4, 4)).copy()
    ibm[:, :3, 3] = -armature.rest_positions()
    ibm_acc = buf.accessor(buf.add(ibm.transpose(0, 2, 1)), FLOAT, J, "MAT4")  # glTF matrices are column-major
    return (attrs, indices), ibm_acc


def _animation(buf: _Buffer, armature: Armature, local: np.ndarray, root: np.ndarray, *, fps: float):
    """One animation: a rotation channel per animated joint, a translation channel on the root, one shared time
    input; the outputs of all rotation channels in one buffer view (an accessor per joint, frames contiguous)."""
    T = len(local)
    times = (np.arange(T) / fps).astype(np.float32)
    t_acc = buf.accessor(buf.add(times), FLOAT, T, "SCALAR", minmax=([float(times[0])], [float(times[-1])]))
    moving = np.flatnonzero(~np.asarray(armature.end_sites))
    q = continuous_quaternions(local[:, moving]).astype(np.float32)
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    view = buf.add(q.transpose(1, 0, 2))  # (joints, T, 4)
    g, samplers, channels = buf.g, [], []
    for k, j in enumerate(moving.tolist()):
        out = buf.accessor(view, FLOAT, T, "VEC4", offset=k * T * 16)
        samplers.append(g.AnimationSampler(input=t_acc, output=out, interpolation="LINEAR"))
        channels.append(g.AnimationChannel(sampler=k, target=g.AnimationChannelTarget(node=j, path="rotation")))
    r = int(np.flatnonzero(np.asarray(armature.parents) < 0)[0])
    move = (root + armature.offsets[r]).astype(np.float32)
    samplers.append(g.AnimationSampler(input=t_acc, output=buf.accessor(buf.add(move), FLOAT, T, "VEC3"),
                                       interpolation="LINEAR"))
    channels.append(g.AnimationChannel(sampler=len(samplers) - 1,
                                       target=g.AnimationChannelTarget(node=r, path="translation")))
    return g.Animation(name="mocap", samplers=samplers, channels=channels)

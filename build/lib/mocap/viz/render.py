"""Pictures and videos of 3D motion without a display (open3d, offscreen), and GLB export.

``render_frames(motions, camera, frames)`` yields RGB images ``(H, W, 3)`` uint8; ``render_image`` /
``render_video`` write PNG / MP4 atomically; ``export_glb`` writes one frame (or the first valid
one) as coloured meshes with trimesh. Motions are drawn in a Z-up world (Y-up ones are turned);
the camera is a calibrated :class:`~mocap.core.camera.Camera` (its view exactly: joints land where
``camera.project`` puts them, without lens distortion) or :func:`auto_camera` framing the motion.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..core.camera import Camera, pinhole
from ..errors import MocapError
from ..io.atomic import atomic_path
from ..core.motion import Motion3D
from ..core.rotations import look_at
from ..runtime import import_open3d
from .scene import TINTS, SkeletonMesh, floor_grid, frustum

BACKGROUND = (0.12, 0.12, 0.14)


def _o3d():
    return import_open3d()


def zup(motions: list[Motion3D]) -> list[Motion3D]:
    return [m.to_up("z") for m in motions]


def auto_camera(motions: list[Motion3D], size=(960, 720), azimuth_deg: float = 30.0, elevation_deg: float = 15.0) -> Camera:
    """A camera (Z-up world) looking at the middle of all motions from the front-right, far enough
    to see their whole extent."""
    P = np.concatenate([m.positions.reshape(-1, 3) for m in motions])
    P = P[np.isfinite(P).all(-1)]
    if not len(P):
        raise MocapError("nothing to draw: every position is missing")
    lo, hi = np.percentile(P, 1, 0), np.percentile(P, 99, 0)
    return look_camera((lo + hi) / 2, max(float(np.linalg.norm(hi - lo)), 1.0), size, azimuth_deg, elevation_deg=elevation_deg)


def follow_cameras(motion: Motion3D, size=(540, 540), azimuth_deg: float = 30.0, elevation_deg: float = 10.0,
                   *, smooth_s: float = 0.25, margin: float = 1.25) -> list[Camera]:
    """One camera per frame (Z-up world) that keeps the person large and centred: it looks at the
    root joint (the pelvis; smoothed over ``smooth_s`` s, gaps held: :func:`~mocap.core.posture.root_track`)
    raised to half the body's size, from a fixed direction, framing the body itself
    (:func:`~mocap.core.posture.body_extent`, 99th percentile) rather than the whole trajectory."""
    from ..core.posture import body_extent, root_track

    m = motion.to_up("z")
    extent = max(body_extent(m.positions, up_axis=2, percentile=99.0), 1.0)
    centre = root_track(m.positions, m.fps, smooth_s)
    centre[:, 2] = min(0.0, float(np.nanmin(m.positions[..., 2]))) + 0.5 * extent  # floor (z = 0 or below) + half
    return [look_camera(c, extent, size, azimuth_deg, elevation_deg=elevation_deg, margin=margin) for c in centre]


def look_camera(center: np.ndarray, extent: float, size=(960, 720), azimuth_deg: float = 30.0,
                *, elevation_deg: float = 15.0, margin: float = 1.3) -> Camera:
    """A pinhole camera (Z-up world, f = 1.1 x width) looking at ``center`` (3,) m from azimuth /
    elevation (degrees; azimuth 0 = from -Y), far enough that ``extent`` m spans 1 / ``margin``
    of the image's shorter side."""
    f = 1.1 * size[0]
    dist = margin * extent * f / min(size)
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    front = np.array([np.sin(az) * np.cos(el), -np.cos(az) * np.cos(el), np.sin(el)])
    eye = center + dist * front
    R = look_at(eye, center, np.array([0.0, 0.0, 1.0]))
    K = pinhole(size, f)
    return Camera("view", K, np.zeros(4), R, -R @ eye, size)


def _mesh(o3d, sm: SkeletonMesh, P: np.ndarray):
    m = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(sm.vertices(P)), o3d.utility.Vector3iVector(sm.triangles))
    m.vertex_colors = o3d.utility.Vector3dVector(sm.colors)
    m.compute_vertex_normals()
    return m


def _lines(o3d, segments: np.ndarray, color):
    seg = np.asarray(segments).reshape(-1, 3)
    ls = o3d.geometry.LineSet(o3d.utility.Vector3dVector(seg), o3d.utility.Vector2iVector(np.arange(len(seg)).reshape(-1, 2)))
    ls.paint_uniform_color(color)
    return ls


def add_scene(o3d, vis, motions: list[Motion3D], rig=None, *, floor: bool = True, thickness: float = 1.0) -> list:
    """Add the floor grid, camera frusta and one skeleton mesh per motion to an open3d visualizer;
    returns ``[(motion, SkeletonMesh, TriangleMesh)]`` for per-frame updates (see :func:`update_meshes`)."""
    if floor:
        P = np.concatenate([m.positions.reshape(-1, 3) for m in motions])
        vis.add_geometry(_lines(o3d, floor_grid(np.nanmedian(P, 0)), [0.35, 0.35, 0.35]))
    for cam in rig or []:
        vis.add_geometry(_lines(o3d, frustum(cam), [0.9, 0.9, 0.2]))
    meshes = []
    for i, m in enumerate(motions):
        sm = SkeletonMesh(m.skeleton, SkeletonMesh.bone_radius * thickness, SkeletonMesh.joint_radius * thickness, tint=i)
        mesh = _mesh(o3d, sm, m.positions[0])
        vis.add_geometry(mesh)
        meshes.append((m, sm, mesh))
    return meshes


def update_meshes(o3d, vis, meshes, frame: int, *, normals: bool = True) -> None:
    """Move every skeleton mesh to ``frame`` (shorter motions hold their last frame)."""
    for m, sm, mesh in meshes:
        mesh.vertices = o3d.utility.Vector3dVector(sm.vertices(m.positions[min(frame, m.n_frames - 1)]))
        if normals:
            mesh.compute_vertex_normals()
        vis.update_geometry(mesh)


def draw_labels(img: np.ndarray, motions: list[Motion3D], frame: int, camera: Camera, *, labels: list[str]) -> np.ndarray:
    """Write each motion's label (e.g. a person's ID) above its highest joint at ``frame``, in the motion's
    tint (:data:`~mocap.viz.scene.TINTS`), onto the RGB image ``img (H, W, 3)`` uint8 seen by ``camera``
    (Z-up motions). People absent at that frame get no label. Returns ``img`` (drawn in place)."""
    for i, (m, text) in enumerate(zip(motions, labels)):
        P = m.positions[min(frame, m.n_frames - 1)]
        ok = np.isfinite(P).all(-1)
        if not ok.any():
            continue
        top = P[ok][np.argmax(P[ok][:, 2])] + [0, 0, 0.15]
        if (camera.world_to_camera(top[None])[0, 2]) <= 0:
            continue
        u, v = camera.project(top[None], distort=False)[0]
        org = (int(round(u)) - 8 * len(text), int(round(v)))
        colour = tuple(int(c) for c in np.clip(TINTS[i % len(TINTS)] * 255, 0, 255))
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20, 20, 20), 4, cv2.LINE_AA)
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.8, colour, 2, cv2.LINE_AA)
    return img


def render_frames(motions: list[Motion3D], camera: Camera | list[Camera] | None = None, frames=None, rig=None,
                  *, floor: bool = True, lit: bool = True, thickness: float = 1.0, labels: list[str] | None = None):
    """Yield one RGB image ``(H, W, 3)`` uint8 per frame index in ``frames`` (default: all frames of
    the longest motion; shorter ones hold their last frame). Rendered by open3d's OpenGL visualizer
    in an invisible window (Mesa EGL when there is no display); ``lit=False`` draws flat colours.
    ``camera`` is one camera, or one per frame index (same intrinsics, e.g. :func:`follow_cameras`);
    ``thickness`` scales bone and joint radii (1 = 1.8 / 3 cm); ``labels``: one text per motion drawn above
    it (:func:`draw_labels`, e.g. people's IDs)."""
    o3d = _o3d()
    motions = zup(motions)
    cameras = camera if isinstance(camera, (list, tuple)) else None
    camera = cameras[0] if cameras else camera or auto_camera(motions)
    w, h = camera.size
    # open3d's OpenGL view puts the principal point at the image centre: render a canvas centred on
    # the camera's principal point and crop the camera's image out of it (exact to half a pixel).
    cx, cy = camera.K[0, 2], camera.K[1, 2]
    W = 2 * int(np.ceil(max(cx + 0.5, w - cx - 0.5)))
    H = 2 * int(np.ceil(max(cy + 0.5, h - cy - 0.5)))
    ox, oy = int(round((W - 1) / 2 - cx)), int(round((H - 1) / 2 - cy))
    vis = o3d.visualization.Visualizer()
    if not vis.create_window("mocap render", W, H, visible=False):
        raise MocapError("could not create an offscreen OpenGL context (install libegl1 libgl1-mesa-dri)")
    try:
        meshes = add_scene(o3d, vis, motions, rig, floor=floor, thickness=thickness)
        opt = vis.get_render_option()
        opt.background_color = np.array(BACKGROUND)
        opt.light_on = lit
        opt.mesh_show_back_face = True
        params = o3d.camera.PinholeCameraParameters()
        K = camera.K
        params.intrinsic = o3d.camera.PinholeCameraIntrinsic(W, H, K[0, 0], K[1, 1], (W - 1) / 2, (H - 1) / 2)

        def look_through(cam: Camera) -> None:
            E = np.eye(4)
            E[:3, :3], E[:3, 3] = cam.R, cam.t
            params.extrinsic = E
            if not vis.get_view_control().convert_from_pinhole_camera_parameters(params, allow_arbitrary=True):
                raise MocapError("the renderer refused the camera parameters")

        look_through(camera)
        n = max(m.n_frames for m in motions)
        for f in (range(n) if frames is None else frames):
            if cameras:
                look_through(cameras[min(f, len(cameras) - 1)])
            update_meshes(o3d, vis, meshes, f, normals=lit)
            vis.poll_events()
            vis.update_renderer()
            img = np.asarray(vis.capture_screen_float_buffer(do_render=True))[oy:oy + h, ox:ox + w]
            img = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
            if labels:
                draw_labels(img, motions, f, cameras[min(f, len(cameras) - 1)] if cameras else camera, labels=labels)
            yield img
    finally:
        vis.destroy_window()


def render_image(motions: list[Motion3D], out: str | Path, frame: int = 0, camera: Camera | None = None, *, rig=None,
                 labels: list[str] | None = None) -> Path:
    """Write one frame as a PNG (atomic); ``labels`` as in :func:`render_frames`."""
    img = next(render_frames(motions, camera, [frame], rig, labels=labels))
    out = Path(out)
    with atomic_path(out) as tmp:
        if not cv2.imwrite(str(tmp) + ".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR)):
            raise MocapError("cannot write image", out)
        Path(str(tmp) + ".png").replace(tmp)
    return out


def render_video(motions: list[Motion3D], out: str | Path, camera: Camera | None = None, rig=None, *, progress=None,
                 labels: list[str] | None = None) -> Path:
    """Write every frame as an MP4 (mp4v) at the first motion's frame rate (atomic); ``labels`` as in
    :func:`render_frames`."""
    out = Path(out)
    motions = zup(motions)
    camera = camera or auto_camera(motions)
    with atomic_path(out) as tmp:
        name = str(tmp) + ".mp4"
        vw = cv2.VideoWriter(name, cv2.VideoWriter_fourcc(*"mp4v"), motions[0].fps, camera.size)
        if not vw.isOpened():
            raise MocapError("cannot open a video writer", out)
        for img in render_frames(motions, camera, None, rig, labels=labels):
            vw.write(cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            if progress:
                progress()
        vw.release()
        Path(name).replace(tmp)
    return out


def export_glb(motion: Motion3D, out: str | Path, frame: int | None = None) -> Path:
    """One frame (default: the first with every joint) as a GLB of coloured meshes, Y-up metres (glTF)."""
    import trimesh

    m = motion.to_up("y")
    if frame is None:
        full = np.flatnonzero(m.valid.all(-1))
        frame = int(full[0]) if len(full) else 0
    if not 0 <= frame < m.n_frames:
        raise MocapError(f"frame {frame} out of range (0..{m.n_frames - 1})")
    sm = SkeletonMesh(m.skeleton)
    colors = (np.c_[sm.colors, np.ones(len(sm.colors))] * 255).astype(np.uint8)
    mesh = trimesh.Trimesh(sm.vertices(m.positions[frame]), sm.triangles, vertex_colors=colors, process=False)
    out = Path(out)
    with atomic_path(out) as tmp:
        tmp.write_bytes(trimesh.Scene(mesh).export(file_type="glb"))
    return out

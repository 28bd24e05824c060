"""FBX through Blender's own exporter (``bpy``, the ``fbx`` extra): never a hand-written FBX.

The animation is first written as a GLB (:mod:`mocap.io.gltf`: the skeleton, the mannequin and the motion); a child
Python process imports it with Blender's glTF importer and writes it with Blender's FBX exporter: the armature and
the skinned mannequin, every frame baked (no key reduction), the scene at the motion's frame rate, FBX's Y-up axes.
Blender runs in its own process so that its state, its console output and a crash of its native code stay out of
ours; its output is shown only when it fails.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import MocapError
from .atomic import atomic_path
from .outputs import FBX_HINT, fbx_available


def glb_to_fbx(glb: str | Path, fbx: str | Path, fps: float, timeout: float = 600.0) -> int:
    """Convert an animated ``glb`` (as :func:`mocap.io.gltf.write_gltf` writes it) to ``fbx`` with Blender, atomically.
    ``fps``: the motion's frame rate (the scene's; keys stay on frames). Returns the bytes written. Without ``bpy``
    a :class:`MocapError` says how to install it."""
    fbx = Path(fbx)
    if not fbx_available():
        raise MocapError(FBX_HINT, fbx)
    with atomic_path(fbx) as tmp:
        cmd = [sys.executable, "-m", "mocap.io.fbx", str(glb), str(tmp), repr(float(fps))]
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                                 cwd=tempfile.gettempdir())
        except subprocess.TimeoutExpired:
            raise MocapError(f"Blender's FBX export took longer than {timeout:g} s", fbx) from None
        if run.returncode != 0 or not tmp.stat().st_size:
            tail = "\n".join((run.stderr or run.stdout).strip().splitlines()[-5:])
            raise MocapError(f"Blender's FBX export failed (exit {run.returncode}): {tail}", fbx)
        return tmp.stat().st_size


def blender_import_gltf(bpy, glb: str | Path, fps: float) -> None:
    """Import ``glb`` into Blender's scene with its keys on the scene's frames at ``fps``. Blender 5.0's glTF
    importer turns seconds into frames with ``render.fps * render.fps_base`` where the frame rate is ``render.fps /
    render.fps_base``: at a rate that is not a whole number (29.97, 119.9952) its keys would drift off the frames, so
    the import runs with ``fps_base`` inverted and the scene is then given the true rate."""
    scene = bpy.context.scene
    scene.render.fps = max(1, round(fps))
    scene.render.fps_base = fps / scene.render.fps
    bpy.ops.import_scene.gltf(filepath=str(glb))
    scene.render.fps_base = scene.render.fps / fps


def _export(glb: str, fbx: str, fps: float) -> None:
    """Inside Blender's process: import ``glb``, keep the armature and the mannequin, export ``fbx``."""
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    blender_import_gltf(bpy, glb, fps)
    for obj in list(scene.objects):
        if obj.type not in ("ARMATURE", "MESH") or (obj.type == "MESH" and obj.find_armature() is None):
            bpy.data.objects.remove(obj)  # the importer's bone display shapes
    arm = next(o for o in scene.objects if o.type == "ARMATURE")
    first, last = arm.animation_data.action.frame_range
    scene.frame_start, scene.frame_end = int(round(first)), int(round(last))
    bpy.ops.export_scene.fbx(filepath=fbx, object_types={"ARMATURE", "MESH"}, use_selection=False,
                             add_leaf_bones=False, bake_anim=True, bake_anim_use_all_actions=False,
                             bake_anim_use_nla_strips=False, bake_anim_force_startend_keying=True,
                             bake_anim_simplify_factor=0.0, axis_forward="-Z", axis_up="Y")


if __name__ == "__main__":
    _export(sys.argv[1], sys.argv[2], float(sys.argv[3]))

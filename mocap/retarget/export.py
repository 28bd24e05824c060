"""A rig animation to the files animation tools import: BVH, glTF (``.glb``/``.gltf``) and FBX, by extension."""
from __future__ import annotations

import tempfile
from pathlib import Path

from ..io.bvh import write_bvh
from ..io.fbx import glb_to_fbx
from ..io.gltf import write_gltf
from ..io.outputs import check_output_format
from .solve import Retargeted


def write_animation(anim: Retargeted, path: str | Path, units: str = "cm", *, executor=None) -> Path:
    """Write ``anim`` as ``path``'s format (atomically): BVH in ``units`` (``executor``: where blocks of lines are
    formatted); glTF and FBX in metres (their convention), the rig's joints as nodes or bones with the same names,
    a skinned mannequin, one animation at ``anim.fps``. Returns ``path``."""
    suffix = check_output_format(path, animation=True).suffix.lower()
    path = Path(path)
    if suffix == ".bvh":
        write_bvh(anim.to_bvh(units), path, executor=executor)
    elif suffix in (".glb", ".gltf"):
        write_gltf(path, anim.to_armature(), anim.local, anim.root, fps=anim.fps)
    else:
        with tempfile.TemporaryDirectory(prefix="mocap-fbx-") as tmp:
            glb = Path(tmp) / f"{path.stem}.glb"
            write_gltf(glb, anim.to_armature(), anim.local, anim.root, fps=anim.fps)
            glb_to_fbx(glb, path, anim.fps)
    return path

"""mocap: 2D human keypoints -> animation-ready 3D. See README.md for the map of the folders.

Old flat module paths (``mocap.triangulation``, ``mocap.bvh``, ...) keep working for one release: importing
one warns (DeprecationWarning) and gives the module at its new place.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

# old path -> new path (0.1 -> 0.2 layout); removed in the release after next
MOVED = {
    "mocap.skeletons": "mocap.core.skeletons",
    "mocap.keypoints": "mocap.core.keypoints",
    "mocap.motion": "mocap.core.motion",
    "mocap.camera": "mocap.core.camera",
    "mocap.bvh": "mocap.io.bvh",
    "mocap.video": "mocap.io.video",
    "mocap.info": "mocap.io.describe",
    "mocap.association": "mocap.detect.association",
    "mocap.triangulation": "mocap.triangulate",
    "mocap.lifter": "mocap.lift.model",
    "mocap.liftdata": "mocap.lift.data",
    "mocap.lifter_train": "mocap.lift.train",
    "mocap.refine": "mocap.smooth.refine",
    "mocap.filters": "mocap.smooth.filters",
    "mocap.gaps": "mocap.smooth.gaps",
    "mocap.metrics": "mocap.smooth.metrics",
    "mocap.rigs": "mocap.retarget.rigs",
    "mocap.pipeline": "mocap.pipelines.multiview",
    "mocap.videojobs": "mocap.pipelines.monocular",
    "mocap.convert": "mocap.pipelines.convert",
    "mocap.scene3d": "mocap.viz.scene",
    "mocap.render": "mocap.viz.render",
    "mocap.viewer": "mocap.viz.viewer",
    "mocap.preview": "mocap.viz.preview",
    "mocap.plots": "mocap.viz.plots",
    "mocap.viewcli": "mocap.cli.view",
    "mocap.calib.commands": "mocap.cli.calibrate",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module path, warns, and hands out the module at its new path (the same object)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {new}; the old path goes in the next release",
                      DeprecationWarning, stacklevel=3)
        return importlib.import_module(new)

    def exec_module(self, module):
        pass


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.insert(0, _MovedModules())

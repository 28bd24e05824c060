"""Several calibrated views -> 3D: DLT blocks (:mod:`.dlt`), robust triangulation (:mod:`.robust`),
Pose2Sim's camera exclusion (:mod:`.pose2sim`) and the result type (:mod:`.result`). Every public
name of the four is importable from here (and from the old ``mocap.triangulation``)."""
from .dlt import normalized_errors, solve_homogeneous, solve_normal, summed_normal, view_coefficients  # noqa: F401
from .pose2sim import triangulate_pose2sim  # noqa: F401
from .result import TriangulationResult, mean_inlier_error, pixel_errors  # noqa: F401
from .robust import (CHUNK, default_threshold, pair_masks, refine_points, temporal_prediction,  # noqa: F401
                     temporal_recheck, triangulate, triangulate_robust)

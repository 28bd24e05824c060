"""Several calibrated views -> 3D: DLT blocks (:mod:`.dlt`), robust triangulation (:mod:`.robust`),
Pose2Sim's camera exclusion (:mod:`.pose2sim`), skeleton and time plausibility (:mod:`.plausible`) and the
result type (:mod:`.result`). Every public name of the five is importable from here."""
from .dlt import (normalized_errors, pair_masks, pair_search, solve_homogeneous, solve_normal,  # noqa: F401
                  summed_normal, view_coefficients)
from .pose2sim import triangulate_pose2sim  # noqa: F401
from .result import TriangulationResult, mean_inlier_error, pixel_errors  # noqa: F401
from .plausible import implausible_frames, recheck, suspects, temporal_prediction  # noqa: F401
from .robust import CHUNK, default_threshold, refine_points, triangulate, triangulate_robust  # noqa: F401

"""Several calibrated views -> 3D: DLT blocks (:mod:`.dlt`), robust triangulation (:mod:`.robust`),
Pose2Sim's camera exclusion (:mod:`.pose2sim`) and the result type (:mod:`.result`)."""
from .pose2sim import triangulate_pose2sim  # noqa: F401
from .result import TriangulationResult, mean_inlier_error, pixel_errors  # noqa: F401
from .robust import default_threshold, refine_points, triangulate, triangulate_robust  # noqa: F401

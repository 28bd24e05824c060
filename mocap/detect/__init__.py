"""Video -> 2D keypoints (:mod:`.detector`: the detector interface, MediaPipe Pose) and following
people (:mod:`.association`: one person across calibrated views, or through one view)."""
from .detector import MP_WORLD_TO_YUP, Detection, Detector, MediaPipeDetector, detect_video, person_detection  # noqa: F401

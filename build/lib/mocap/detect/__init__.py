"""Video -> 2D keypoints: :mod:`.detector` (the detector interface, BlazePose), :mod:`.tracking` (everyone in one
video followed with IDs). Who is who across calibrated views: :mod:`mocap.associate`."""
from .detector import MP_WORLD_TO_YUP, Detection, Detector, MediaPipeDetector, detect_video, person_detection  # noqa: F401

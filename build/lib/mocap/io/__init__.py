"""File formats only: calibration, keypoints, 3D motion, BVH, video, atomic writes, file descriptions."""

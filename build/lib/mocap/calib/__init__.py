"""Camera calibration: boards, intrinsics, extrinsics from boards or a person, bundle adjustment, reports."""

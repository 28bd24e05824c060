"""Types and shared maths, no I/O: skeletons, keypoints, motion, camera, rotations, kinematics, posture."""

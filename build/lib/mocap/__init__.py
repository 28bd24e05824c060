"""mocap: 2D human keypoints -> animation-ready 3D. See README.md for the map of the folders."""

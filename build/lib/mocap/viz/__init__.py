"""Pictures: skeleton meshes, headless renders, the open3d viewer, preview videos, plots."""

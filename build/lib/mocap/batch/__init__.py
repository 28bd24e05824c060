"""Whole sessions in one call: trials found in a session folder (Pose2Sim layout) or a manifest, every stage
the options ask for run per trial (local process pool or Ray), resumable by input hashes, with a summary."""

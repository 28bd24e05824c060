"""Who is who across views and time: several people associated across calibrated views and tracked in 3D with
identities (:mod:`.tracks`), and one person followed through views without a calibration (:mod:`.follow`)."""

"""One view -> 3D: the 15 joints (:mod:`.joints`), the network and inference (:mod:`.model`), training data (:mod:`.data`), training (:mod:`.train`)."""

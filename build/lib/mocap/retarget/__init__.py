"""3D joints -> a rigged skeleton's local rotations (:mod:`.solve`) for the rigs in :mod:`.rigs`."""
from .solve import (REQUIRED, SOURCE_NAMES, Retargeted, axis_angle, frame_from, measure, plant_feet,  # noqa: F401
                    retarget, smoothstep, stand_on_floor, source_targets, swing, transport_roll)

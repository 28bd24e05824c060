"""Whole-sequence refinement (:mod:`.refine`), filters, gap filling, metrics and ``mocap smooth`` (:mod:`.clean`)."""

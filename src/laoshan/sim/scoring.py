"""Scoring from ground truth: what a run did, as the simulator knows it. Never read by a controller."""

from laoshan.sim.body import GroundTruth

FALL_HEIGHT_M = 0.45   # pelvis below this height (or tilted past FALL_TILT_RAD) counts as a fall
FALL_TILT_RAD = 1.0


def has_fallen(truth: GroundTruth) -> bool:
    """Scoring: pelvis too low or body tipped over (uses ground truth)."""
    return bool(truth.p_world_base_m[2] < FALL_HEIGHT_M or truth.tilt_rad > FALL_TILT_RAD)

"""Limbs: arm and hand kinematics, end-effector trajectories, reaching while balancing."""

"""Simulation: worlds, the physics step and ``SimBody`` behind the LowCmd/LowState contract."""

from laoshan.sim.body import GroundTruth, SimBody
from laoshan.port.messages import LowCmd, LowState
from laoshan.sim.world import Table, Terrain, Thing, WorldSpec

__all__ = ["GroundTruth", "LowCmd", "LowState", "SimBody", "Table", "Terrain", "Thing", "WorldSpec"]

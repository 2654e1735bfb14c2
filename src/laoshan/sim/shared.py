"""``SharedWorld``: several robots in one MuJoCo world, each behind its own ``LowCmd`` → ``LowState``.

Every robot is a :class:`SimBody` (its drivers, sensors, battery and cameras) whose names carry a
prefix (``r0/``, ``r1/``, ...). They share the physics: one :meth:`SharedWorld.step` takes every
robot's command for the tick, runs the physics once and returns every robot's state. Robots
collide with one another (each has its own collision bit) but not with themselves. What one robot
knows of another comes only from the messages they send (``laoshan.fleet.bus``); the ground truth
here (poses, robot-robot contacts) is for scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np

from laoshan.components.loop import LoopSpec
from laoshan.port.messages import LowCmd, LowState
from laoshan.robot.description import RobotDescription
from laoshan.robot.mujoco_model import build_robot_spec, robot_collision_bits, set_physics_options
from laoshan.sim.body import GroundTruth, SimBody
from laoshan.sim.world import Lamps, WorldSpec, build_world


@dataclass(frozen=True)
class Placement:
    """A robot of a shared world and where it starts."""

    robot: RobotDescription
    start_xy_yaw: tuple[float, float, float]    # base on the floor at (x [m], y [m], yaw [rad]), world frame
    battery_soc: float = 1.0


class SharedWorld:
    """Several robots in one world, stepped together; ``robots[i]`` is robot ``i``'s port side."""

    def __init__(self, placements: Sequence[Placement], world: WorldSpec | None = None, seed: int = 0,
                 cameras: bool = False) -> None:
        if not placements:
            raise ValueError("a shared world needs at least one robot")
        loops: list[LoopSpec] = [p.robot.catalog.get("controller", p.robot.controller) for p in placements]
        if len({(lp.physics_dt_s, lp.control_dt_s) for lp in loops}) != 1:
            raise ValueError("the robots of one world must share their physics and control periods, got "
                             + ", ".join(f"{lp.physics_dt_s} / {lp.control_dt_s} s" for lp in loops))
        self.world = world or WorldSpec()
        spec = mujoco.MjSpec()
        set_physics_options(spec, loops[0].physics_dt_s)
        build_world(spec, self.world)
        n = len(placements)
        for i, p in enumerate(placements):
            robot_spec = build_robot_spec(p.robot, loops[0].physics_dt_s, robot_collision_bits(i, n))
            spec.attach(robot_spec, prefix=self.prefix(i), frame=spec.worldbody.add_frame())
        self.model = spec.compile()
        self.data = mujoco.MjData(self.model)
        self.lamps = Lamps(self.model, self.world.buttons)
        self.substeps = loops[0].substeps
        self.control_dt_s = loops[0].control_dt_s
        self.robots = [SimBody.in_shared_world(p.robot, self.world, self.model, self.data, self.prefix(i),
                                               self.lamps, p.battery_soc, p.start_xy_yaw, cameras)
                       for i, p in enumerate(placements)]
        geoms_of = [r._robot_geoms for r in self.robots]
        self._owner = np.full(self.model.ngeom, -1)
        for i, mask in enumerate(geoms_of):
            self._owner[mask] = i
        self.reset(seed)

    @staticmethod
    def prefix(index: int) -> str:
        return f"r{index}/"

    def reset(self, seed: int = 0) -> list[LowState]:
        """Every robot at home at its start, fresh sensors (robot ``i`` seeded ``seed`` + ``i``)."""
        mujoco.mj_resetData(self.model, self.data)
        self.lamps.reset()
        self._touching: set[tuple[int, int]] = set()     # scoring: robot pairs touching at the last count
        return [r.reset_robot(seed + i) for i, r in enumerate(self.robots)]

    @property
    def time_s(self) -> float:
        return self.robots[0].time_s

    def step(self, cmds: Sequence[LowCmd | None]) -> list[LowState]:
        """One control tick: robot ``i`` runs ``cmds[i]`` (None: no command this tick); every
        robot's next state."""
        if len(cmds) != len(self.robots):
            raise ValueError(f"one command per robot: got {len(cmds)} for {len(self.robots)}")
        before = [r.drive(c) for r, c in zip(self.robots, cmds, strict=True)]
        mujoco.mj_step(self.model, self.data, nstep=self.substeps)
        self.lamps.update(self.data)
        return [r.after_physics(*b) for r, b in zip(self.robots, before, strict=True)]

    def close(self) -> None:
        for r in self.robots:
            r.close()

    # --- scoring only ---------------------------------------------------------------------------

    def ground_truth(self) -> list[GroundTruth]:
        """Every robot's simulator truth (scoring only)."""
        return [r.ground_truth() for r in self.robots]

    def ground_truth_robot_contacts(self) -> set[tuple[int, int]]:
        """Simulator truth (scoring only): the pairs of robots (i < j) touching each other now."""
        g = self.data.contact.geom[:self.data.ncon]
        a, b = self._owner[g[:, 0]], self._owner[g[:, 1]]
        touching = (a >= 0) & (b >= 0) & (a != b)
        return {(int(min(x, y)), int(max(x, y))) for x, y in zip(a[touching], b[touching], strict=True)}

    def ground_truth_collisions_begun(self) -> int:
        """Simulator truth (scoring only): how many pairs of robots have begun touching since the
        last call (or the reset)."""
        contacts = self.ground_truth_robot_contacts()
        begun = len(contacts - self._touching)
        self._touching = contacts
        return begun

    @property
    def ground_truth_touching(self) -> set[tuple[int, int]]:
        """Simulator truth (scoring only): the robot pairs touching at the last count."""
        return self._touching

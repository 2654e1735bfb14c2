"""Arm paths planned in a process of its own, beside a real-time control loop.

A plan takes a few milliseconds (OMPL's RRT-Connect over the compiled capsule model), longer than
a 2 ms control period: made in the loop, it makes that tick miss its deadline. In a thread it
would share the interpreter with the loop (the planner's edge checks are Python callbacks), so
every tick would wait its turn. A worker process plans on a core of its own, at a lower
scheduling priority than the loop and the robot, and sends back only the path's numbers; the
loop's own planner rebuilds the path around them.
"""

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np

from laoshan.cerebellum.control_model import ControlModel
from laoshan.limbs.collision import ObstacleBox
from laoshan.limbs.planning import ArmPath, ArmPlanner, PlannerConfig
from laoshan.robot.description import RobotDescription

WORKER_NICE = 10     # the worker yields the CPU to the control loop and to the robot it drives

_planners: dict[tuple[str, tuple[ObstacleBox, ...]], ArmPlanner] = {}
_setup: dict[str, object] = {}


def _start(robot: RobotDescription, config: PlannerConfig) -> None:
    os.nice(WORKER_NICE)
    model = ControlModel(robot)
    _setup["model"], _setup["config"] = model, config
    for side in model.arm_joints:     # loads the compiled checks now, not in the first plan
        _planners[side, ()] = ArmPlanner(model, side, (), config)


def _plan(side: str, obstacles: tuple[ObstacleBox, ...], T_goal: np.ndarray, p_world_base_m: np.ndarray,
          quat_xyzw: np.ndarray, q_rad: np.ndarray, orientation: bool) -> tuple[np.ndarray, ...]:
    key = (side, obstacles)
    if key not in _planners:
        _planners[key] = ArmPlanner(_setup["model"], side, obstacles, _setup["config"])  # type: ignore[arg-type]
    path = _planners[key].plan(T_goal, p_world_base_m, quat_xyzw, q_rad, 0.0, orientation)
    return path.q_body, path.waypoints, path.durations_s, np.array([path.plan_s, path.clearance_m])


class PlanWorker:
    """One worker process planning arm paths for ``robot``."""

    def __init__(self, robot: RobotDescription, config: PlannerConfig) -> None:
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                                         initargs=(robot, config))
        self._pool.submit(int)     # starts the process now (a second or two), not at the first plan, in a tick

    def submit(self, side: str, obstacles: tuple[ObstacleBox, ...], T_goal: np.ndarray, p_world_base_m: np.ndarray,
               quat_xyzw: np.ndarray, q_rad: np.ndarray, orientation: bool) -> Future:
        """Plan in the worker; the future's result goes to :func:`path_of`."""
        return self._pool.submit(_plan, side, obstacles, T_goal, p_world_base_m, quat_xyzw, q_rad, orientation)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def path_of(planner: ArmPlanner, result: tuple[np.ndarray, ...], t0_s: float) -> ArmPath:
    """The worker's path, followed by ``planner`` (the loop's) from ``t0_s``."""
    q_body, waypoints, durations, (plan_s, clearance_m) = result
    return ArmPath(planner, q_body, waypoints, durations, t0_s, float(plan_s), clearance_m=float(clearance_m))

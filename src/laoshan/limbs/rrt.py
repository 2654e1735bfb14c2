"""Bidirectional RRT (RRT-Connect) in an arm's joint space, by OMPL, with the project's own edge
check (the robot's compiled capsule model, :mod:`laoshan.limbs.clearance`) as its motion validator.

OMPL's RRT-Connect grows two trees, from the start and from the goal, by steps of at most
``range_rad`` (joint-space distance) toward uniform samples of the joint box, and joins them; each
new edge is checked whole by one call of ``edge_free``. Its random numbers come from OMPL's seed
generator, set from ``seed`` before each plan, so a seed plans the same path. Everything OMPL is
built and dropped within a call.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from ompl import base as ob
from ompl import geometric as og
from ompl import util as ou

ou.setLogLevel(ou.LogLevel.LOG_NONE)    # its messages would go to stderr; failures are raised here instead

EdgeCheck = Callable[[np.ndarray, np.ndarray], bool]


def _array(state: ob.State, n: int) -> np.ndarray:
    return np.array([state[i] for i in range(n)])


class _Edges(ob.MotionValidator):
    """Whether a straight edge between two states is free, by ``edge_free``; counts the checks."""

    def __init__(self, si: ob.SpaceInformation, edge_free: EdgeCheck, n: int) -> None:
        super().__init__(si)
        self.edge_free, self.n, self.checked = edge_free, n, 0

    def checkMotion(self, s1: ob.State, s2: ob.State) -> bool:  # noqa: N802 (OMPL's name)
        self.checked += 1
        return self.edge_free(_array(s1, self.n), _array(s2, self.n))


def rrt_connect(q_start: np.ndarray, q_goal: np.ndarray, q_min: np.ndarray, q_max: np.ndarray,
                edge_free: EdgeCheck, state_free: Callable[[np.ndarray], bool], range_rad: float,
                max_edges: int, seed: int) -> np.ndarray | None:
    """Waypoints (k, n) from ``q_start`` to ``q_goal`` [rad] whose straight edges are free, or None
    when none was found within ``max_edges`` edge checks. ``state_free`` says whether a posture
    may be on a path (the start and goal are checked with it)."""
    n = len(q_start)
    space = ob.RealVectorStateSpace(n)
    bounds = ob.RealVectorBounds(n)
    for i in range(n):
        bounds.setLow(i, float(q_min[i]))
        bounds.setHigh(i, float(q_max[i]))
    space.setBounds(bounds)
    si = ob.SpaceInformation(space)
    si.setStateValidityChecker(lambda state: bool(state_free(_array(state, n))))
    edges = _Edges(si, edge_free, n)
    si.setMotionValidator(edges)
    si.setup()
    problem = ob.ProblemDefinition(si)
    start, goal = space.allocState(), space.allocState()
    for i in range(n):
        start[i], goal[i] = float(q_start[i]), float(q_goal[i])
    problem.setStartAndGoalStates(start, goal)
    ou.RNG.setSeed(seed + 1)           # (OMPL takes no seed 0)
    planner = og.RRTConnect(si)
    planner.setRange(range_rad)
    planner.setProblemDefinition(problem)
    planner.setup()
    status = planner.solve(ob.PlannerTerminationCondition(lambda: edges.checked >= max_edges))
    if not problem.hasExactSolution() or str(status) != "Exact solution":
        return None
    path = problem.getSolutionPath()
    return np.array([_array(path.getState(i), n) for i in range(path.getStateCount())])

"""Towel: the functional G1 folds a towel lying on a table in half, bringing the edge that hangs
over the table's front edge onto the far edge (:class:`laoshan.limbs.fold.TowelFold`).

The controller is told where the towel lies, how big and heavy it is (the task's nominal pose);
the seed jitters where it really lies. Ground truth scores the run from the cloth's points (how
close each point of the near edge ended to its partner on the far edge, how deep the towel now
is, whether it is still on the table) and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from laoshan.limbs.fold import TowelFold, TowelFoldConfig
from laoshan.limbs.reach import ReachController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.scenarios.episode import TaskReport, run_hand_sequence
from laoshan.sim.body import SimBody
from laoshan.sim.scoring import towel_points
from laoshan.sim.world import Table, Towel, WorldSpec

START_S = 0.5


@dataclass(frozen=True)
class TowelScenario:
    robot: str = "g1-functional"
    size_m: tuple[float, float] = (0.14, 0.224)   # depth (x: folded along it), width (y)
    mass_kg: float = 0.06
    y_m: float = 0.0                  # the towel's middle (world y)
    table_front_x_m: float = 0.30
    table_height_m: float = 0.70
    overhang_m: float = 0.04          # the near edge hangs this far over the table's front edge
    jitter_m: float = 0.005           # the real towel lies up to this far off its nominal place (seeded)
    paired_m: float = 0.04            # scoring: a near-edge point ended this close (xy) to its far-edge partner ...
    paired_goal: float = 0.5          # ... for at least this share of them,
    depth_goal: float = 0.7           # the towel now at most this share of its depth deep, and still on the table
    seconds: float = 9.5
    seed: int = 0
    video: Path | None = None

    def __post_init__(self) -> None:
        if not 0.01 <= self.overhang_m <= 0.06:
            raise ValueError(f"overhang_m={self.overhang_m} must be in [0.01, 0.06] m: the thumb swings in "
                             "under the overhang")
        if not 0.0 <= self.jitter_m <= 0.02:
            raise ValueError(f"jitter_m={self.jitter_m} must be in [0, 0.02] m")
        self.towel()                  # a towel that does not fit the grid raises here

    def table(self) -> Table:
        return Table("table", (self.table_front_x_m + 0.2, 0.0), (0.4, 0.8), self.table_height_m)

    def towel(self) -> Towel:
        return Towel("towel", (self.table_front_x_m - self.overhang_m + self.size_m[0] / 2, self.y_m),
                     self.table_height_m, self.size_m, mass_kg=self.mass_kg, jitter_m=self.jitter_m)

    def world(self) -> WorldSpec:
        return WorldSpec(tables=(self.table(),), towels=(self.towel(),), seed=self.seed)


@dataclass(frozen=True)
class TowelReport(TaskReport):
    paired: float                     # share of near-edge points that ended within paired_m of their partner
    pair_gap_median_m: float          # median xy distance of a near-edge point to its far-edge partner
    depth_ratio: float                # the towel's depth (x extent) now over its depth at the start
    on_table: bool


def fold_scores(start: np.ndarray, end: np.ndarray, paired_m: float) -> tuple[float, float, float]:
    """Of the towel's points at the start and end (as :func:`laoshan.sim.world.towel_points_truth`):
    the share of near-edge points within ``paired_m`` (xy) of their far-edge partners, the median
    of those distances [m] and the end depth over the start depth."""
    gaps = np.linalg.norm(end[0, :, :2] - end[-1, :, :2], axis=1)
    depth = np.ptp(end[..., 0]) / np.ptp(start[..., 0])
    return float(np.mean(gaps <= paired_m)), float(np.median(gaps)), float(depth)


def run_towel_fold(config: TowelScenario, progress: Callable[[int], None] | None = None,
                   robot: RobotDescription | None = None, fold: TowelFoldConfig | None = None) -> TowelReport:
    """Fold the towel once (with both hands, unless ``fold`` says otherwise); ``progress(ticks)`` is
    called every 100 control ticks."""
    robot = robot or load_description(config.robot)
    for side in (fold or TowelFoldConfig()).sides:
        hand = robot.hands.get(side)
        if hand is None or not hand.closing:
            raise ValueError(f"{robot.name} has no {side} hand with fingers to pinch with")
    towel = config.towel()
    body = SimBody(robot, world=config.world(), seed=config.seed)
    controller = ReachController(robot)
    edge = np.array([towel.center_xy_m[0] - towel.size_m[0] / 2, towel.center_xy_m[1],
                     towel.top_z_m + towel.thickness_m])          # the near edge's middle, nominal
    task = TowelFold(controller, edge, towel.size_m, towel.mass_kg, config=fold)
    state = body.reset(config.seed)
    start = towel_points(body, towel)
    episode = run_hand_sequence(body, state, controller, task, config.seconds, START_S, None, config.video,
                                progress)
    end = towel_points(body, towel)
    paired, gap, depth = fold_scores(start, end, config.paired_m)
    on_table = bool(end[..., 2].min() > config.table_height_m - 0.02)   # nothing hangs over an edge
    success = (task.done and not episode.fell and on_table and paired >= config.paired_goal
               and depth <= config.depth_goal)
    return TowelReport.of_run(body, task, episode, config.seconds, success, paired=paired, pair_gap_median_m=gap,
                              depth_ratio=depth, on_table=on_table)

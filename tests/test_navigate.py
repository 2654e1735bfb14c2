"""Going to a spot: the velocity commands GoTo gives for an estimated pose."""

from __future__ import annotations

import math

import numpy as np
import pytest

from laoshan.cerebellum.estimator import RobotState
from laoshan.cerebellum.navigate import GoTo, GoToConfig


def state_at(x: float, y: float, yaw: float) -> RobotState:
    c, s = math.cos(yaw), math.sin(yaw)
    R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return RobotState(0.0, np.array([x, y, 0.75]), R, np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3),
                      {}, {})


def test_a_goal_behind_is_turned_to_before_walking() -> None:
    vx, vy, yaw_rate = GoTo((-3.0, 0.1)).command(state_at(0, 0, 0))
    assert vx == 0 and vy == 0 and yaw_rate > 0


def test_far_goals_are_walked_to_at_full_speed_and_near_ones_side_stepped() -> None:
    config = GoToConfig()
    vx, _, yaw_rate = GoTo((3.0, 0.0), config).command(state_at(0, 0, 0))
    assert vx == pytest.approx(config.max_speed_m_s) and yaw_rate == pytest.approx(0)
    vx, vy, yaw_rate = GoTo((0.0, 0.3), config).command(state_at(0, 0, 0))
    assert vx == pytest.approx(0, abs=1e-9) and vy > 0 and yaw_rate == 0


def test_arrival_is_kept_and_stops_the_steps() -> None:
    goto = GoTo((1.0, 1.0))
    assert goto.command(state_at(0.95, 1.0, 1.0)) == (0.0, 0.0, 0.0) and goto.arrived
    assert goto.command(state_at(0.5, 1.0, 1.0)) == (0.0, 0.0, 0.0)


def test_bad_goals_are_refused() -> None:
    with pytest.raises(ValueError):
        GoTo((math.nan, 0.0))
    with pytest.raises(ValueError):
        GoToConfig(min_speed_m_s=0.5, max_speed_m_s=0.2)

"""Grasps that feel: the hands' touch pads confirm a grasp, and notice one that is lost."""

from __future__ import annotations

import numpy as np
import pytest

from laoshan.limbs.touch import HandTouch, TouchConfig
from laoshan.robot.description import RobotDescription


def test_a_hand_has_lost_what_it_held_only_after_feeling_nothing_for_a_while(g1_functional: RobotDescription) -> None:
    touch = HandTouch(g1_functional, TouchConfig(contact_N=1.0, lost_s=0.1))
    pads = np.zeros(len(g1_functional.touch))
    right = list(g1_functional.hands["right"].touch)
    pads[right[1]] = 8.0                                   # the right thumb tip presses on something
    touch.update(pads, 1.0)
    assert touch.holds("right") and not touch.holds("left")
    assert touch.touching("right") == ("right_thumb_tip",)
    pads[:] = 0.0
    touch.update(pads, 1.05)                               # a dropped sample or a bounce ...
    assert not touch.lost("right", since_s=0.5)
    touch.update(pads, 1.11)                               # ... and then nothing for 0.1 s
    assert touch.lost("right", since_s=0.5)
    pads[right[0]] = 3.0                                   # felt again: held
    touch.update(pads, 1.12)
    assert not touch.lost("right", since_s=0.5)


def test_hands_without_pads_feel_nothing(g1_basic: RobotDescription) -> None:
    touch = HandTouch(g1_basic)
    touch.update(np.zeros(0), 1.0)
    assert all(not touch.has_pads(side) and touch.force_N(side) == 0.0 for side in g1_basic.hands)


def test_a_box_pulled_out_of_the_hands_is_noticed_by_touch() -> None:
    """The robot holds a box up in both hands; pulled out of them (a hard tug away from the robot),
    the palms' touch pads stop feeling it and the pick fails saying so, with no camera."""
    from laoshan.scenarios.pick import PickScenario, run_pick

    report = run_pick(PickScenario(seed=3, tug_Ns=(25.0, 0.0, 0.0)))       # 125 N for 0.2 s
    assert report.failure is not None and report.failure.startswith("hold: lost grasp")
    assert report.touching_box_N == 0.0                                  # ground truth: it really is out
    assert not report.success and report.timeline[-1][1] == "hold"      # it had lifted the box and held it


def test_a_held_box_is_not_reported_lost() -> None:
    """The same pick left alone keeps feeling the box in both palms to the end."""
    from laoshan.scenarios.pick import PickScenario, run_pick

    report = run_pick(PickScenario(seed=3))
    assert report.success and report.failure is None and report.touching_box_N > 0.0
    assert all(force > 10.0 for force in report.felt_N.values())


@pytest.mark.parametrize("seed", [0])
def test_a_grasp_that_closes_on_nothing_is_a_missed_grasp(seed: int) -> None:
    """The hand closes where a can should be but is not (it stands 15 cm off): the touch pads
    feel nothing, so the pick fails as a missed grasp before it lifts."""
    from laoshan.limbs.grasp import PowerGrasp
    from laoshan.scenarios.grasp import GraspScenario
    from laoshan.scenarios.pick import START_S
    from laoshan.limbs.reach import ReachController
    from laoshan.robot.description import load_description
    from laoshan.sim.body import SimBody

    config = GraspScenario(shape="cylinder", seed=seed, xy_m=(0.36, -0.27))   # the real can
    robot = load_description(config.robot)
    body = SimBody(robot, world=config.world(), seed=seed)
    controller = ReachController(robot)
    state = body.step(controller(body.reset(seed)))
    told = np.array([0.36, -0.12, config.table_height_m + config.half_height_m])   # where it is said to be
    grasp = PowerGrasp(controller, told, config.radius_m, config.mass_kg)
    while state.time_s < START_S + 8.0 and not grasp.failed:
        grasp.update(state.time_s)
        state = body.step(controller(state))
    assert grasp.failed is not None and grasp.failed.startswith("close: missed grasp")
    assert "lift" not in [phase for _, phase in grasp.timeline]

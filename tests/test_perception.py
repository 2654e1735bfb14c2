"""Perception from the head camera only: objects found and placed in the world within 3 cm."""

from __future__ import annotations

import numpy as np
import pytest

from laoshan.brain.perception import detect_objects, hue_saturation_value
from laoshan.cerebellum.locomotion import LocomotionController
from laoshan.robot.description import RobotDescription
from laoshan.sim.body import SimBody
from laoshan.sim.world import Table, Thing, WorldSpec


def test_hue_of_pure_colours() -> None:
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [128, 128, 128]]], dtype=np.uint8)
    h, s, v = hue_saturation_value(rgb)
    assert np.allclose(h[0, :4], [0, 120, 240, 60])
    assert s[0, 4] == 0 and np.isclose(v[0, 4], 128 / 255)


@pytest.mark.parametrize("seed", [0, 1])
def test_objects_are_found_within_3_cm_from_the_camera_alone(g1_functional: RobotDescription, seed: int) -> None:
    things = (Thing("box", "box", (0.07, 0.14, 0.09), 0.5, (0.42, 0.0, 0.79), jitter_m=0.03),
              Thing("can", "cylinder", (0.033, 0.06), 0.3, (0.40, -0.2, 0.76), rgba=(0.2, 0.5, 0.9, 1), jitter_m=0.03),
              Thing("ball", "sphere", (0.04,), 0.2, (0.45, 0.22, 0.74), rgba=(0.2, 0.8, 0.3, 1), jitter_m=0.03))
    world = WorldSpec(tables=(Table("table", (0.55, 0.0), (0.4, 0.8), 0.70),), things=things, seed=seed)
    body = SimBody(g1_functional, world=world, cameras=True, seed=seed)
    ctl = LocomotionController(g1_functional)
    state = body.reset(seed)
    for _ in range(300):
        state = body.step(ctl(state))
    seen = detect_objects(state.rgbd["head"], ctl.model.robot.get_T_world_frame(g1_functional.cameras[0].link))
    body.close()
    assert sorted(d.colour for d in seen) == ["blue", "green", "red"]
    truth = {"red": "box", "blue": "can", "green": "ball"}             # scoring only
    for d in seen:
        error = np.linalg.norm(d.p_world_m - body.data.body(truth[d.colour]).xpos)
        assert error <= 0.03, f"{d.colour}: {error * 100:.1f} cm off"
    red = next(d for d in seen if d.colour == "red")
    assert np.allclose(red.size_m, [0.14, 0.28, 0.18], atol=0.02)     # the box's size, seen


def test_a_round_fit_finds_the_centre_behind_the_seen_near_side() -> None:
    from laoshan.brain.perception import fit_round

    rng = np.random.default_rng(0)
    a = rng.uniform(np.pi / 2, 3 * np.pi / 2, 200)                    # only the near half (toward -x) is seen
    arc = np.column_stack([0.4 + 0.033 * np.cos(a), -0.2 + 0.033 * np.sin(a)]) + rng.normal(0, 0.001, (200, 2))
    assert np.linalg.norm(fit_round(arc, 0.033) - [0.4, -0.2]) < 0.002
    assert arc.mean(axis=0)[0] < 0.4 - 0.015                          # the seen middle is well short of it
    u = rng.normal(size=(300, 3))
    cap = u / np.linalg.norm(u, axis=1, keepdims=True)
    cap = cap[cap[:, 0] < 0.2] * 0.04 + [0.5, 0.1, 0.74]              # a ball's near side
    assert np.linalg.norm(fit_round(cap, 0.04) - [0.5, 0.1, 0.74]) < 0.002


def test_a_cube_is_seen_resting_on_the_table_not_on_its_own_shaded_sides(g1_functional: RobotDescription) -> None:
    """A 10 cm cube's sides facing the camera are too dark to join its blob but are still blue: the
    surface under it must be read from the table around it, not from them (they read 3-4 cm high)."""
    cube = Thing("cube", "box", (0.05, 0.05, 0.05), 0.3, (0.45, 0.20, 0.75), rgba=(0.2, 0.5, 0.9, 1))
    world = WorldSpec(tables=(Table("table", (0.55, 0.0), (0.4, 0.8), 0.70),), things=(cube,), seed=0)
    body = SimBody(g1_functional, world=world, cameras=True, seed=0)
    ctl = LocomotionController(g1_functional)
    state = body.reset(0)
    for _ in range(250):
        state = body.step(ctl(state))
    seen = detect_objects(state.rgbd["head"], ctl.model.robot.get_T_world_frame(g1_functional.cameras[0].link))
    body.close()
    assert [d.colour for d in seen] == ["blue"]
    assert abs(seen[0].support_z_m - 0.70) < 0.008
    assert np.allclose(seen[0].size_m, [0.10, 0.10, 0.10], atol=0.015)
    assert np.linalg.norm(seen[0].p_world_m - body.data.body("cube").xpos) < 0.01      # scoring only

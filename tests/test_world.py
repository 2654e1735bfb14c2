"""Worlds build from typed, seeded descriptions; objects rest by contact; the head camera sees."""

from __future__ import annotations

import numpy as np
import pytest

from laoshan.cerebellum.stand import StandController
from laoshan.robot.description import RobotDescription
from laoshan.sim.body import SimBody
from laoshan.sim.world import (LAMP_OFF_RGBA, TERRAINS, Button, Table, Terrain, Thing, Towel, WorldError, WorldSpec,
                               towel_points_truth)

TABLE = Table("table", center_xy_m=(0.8, 0.0), top_size_m=(0.6, 1.0), height_m=0.75)
BOX = Thing("red_box", "box", (0.03, 0.03, 0.03), 0.2, (0.7, 0.0, 0.781), rgba=(0.9, 0.1, 0.1, 1), jitter_m=0.05)


@pytest.mark.parametrize("kind", TERRAINS)
def test_every_terrain_builds_and_the_robot_stands_on_flat_start(g1_basic: RobotDescription, kind: str) -> None:
    body = SimBody(g1_basic, world=WorldSpec(terrain=Terrain(kind=kind), seed=2))
    assert body.model.ngeom > 0
    controller = StandController(g1_basic)
    state = body.reset(0)
    for _ in range(250):
        state = body.step(controller(state))
    assert body.ground_truth().p_world_base_m[2] > 0.75


def test_terrain_features_have_their_height(g1_basic: RobotDescription) -> None:
    import mujoco

    for terrain, x, z in [(Terrain(kind="stairs", step_height_m=0.1, n_steps=3), 1.9, 0.3),
                          (Terrain(kind="slope", slope_deg=10.0, length_m=3.0), 5.0, 3.0 * np.sin(np.radians(10)))]:
        body = SimBody(g1_basic, world=WorldSpec(terrain=terrain))
        m, d = body.model, body.data
        geom_id = np.array([-1], dtype=np.int32)
        all_groups = np.array([1, 1, 1, 1, 1, 1], dtype=np.uint8)
        dist = mujoco.mj_ray(m, d, np.array([x, 0.0, 5.0]), np.array([0.0, 0.0, -1.0]), all_groups, 1,
                             body.model.body(g1_basic.base_link).id, geom_id)
        assert 5.0 - dist == pytest.approx(z, abs=1e-6)


def test_object_rests_on_table_by_contact(g1_basic: RobotDescription) -> None:
    body = SimBody(g1_basic, world=WorldSpec(tables=(TABLE,), things=(BOX,), seed=4))
    box = body.model.body("red_box").id
    start = body.data.xpos[box].copy()
    for _ in range(500):
        body.step(None)
    end = body.data.xpos[box]
    assert end[2] == pytest.approx(0.75 + 0.03, abs=0.003)        # on the table top, not through it
    assert np.linalg.norm(end[:2] - start[:2]) < 0.005


def test_a_towel_drapes_over_the_tables_edge_and_stays_flat_on_it(g1_basic: RobotDescription) -> None:
    """A towel lying 4 cm over a table's edge: the part on the table stays flat, the overhang sags
    (bending-stiff cloth, not a board, nor a rag that slides off)."""
    towel = Towel("towel", (TABLE.center_xy_m[0] - TABLE.top_size_m[0] / 2 - 0.04 + 0.07, 0.0), TABLE.height_m)
    body = SimBody(g1_basic, world=WorldSpec(tables=(TABLE,), towels=(towel,)))
    start = towel_points_truth(body.model, body.data, towel)
    for _ in range(500):
        body.step(None)
    end = towel_points_truth(body.model, body.data, towel)
    assert end.shape == (6, 9, 3)
    top = TABLE.height_m + towel.thickness_m / 2
    assert np.allclose(end[4:, :, 2], top, atol=0.002)                       # rows well on the table lie on it
    assert -0.03 < end[0, :, 2].mean() - top < -0.01                          # the overhanging edge sags (and,
    assert np.abs(end[-1, :, :2] - start[-1, :, :2]).max() < 0.005           # stiff, lifts the rows behind the
                                                                              # edge 1-4 mm) but drags nothing off


def test_world_seed_drives_object_jitter(g1_basic: RobotDescription) -> None:
    pos = lambda seed: SimBody(g1_basic, world=WorldSpec(things=(BOX,), seed=seed)).data.xpos[-1].copy()  # noqa: E731
    assert np.array_equal(pos(1), pos(1))
    assert not np.array_equal(pos(1), pos(2))


def test_a_button_springs_back_and_its_lamp_stays_lit_once_pressed_in_far_enough(g1_basic: RobotDescription) -> None:
    """The cap is pushed in by hand here (its joint set, as a finger would): 3 mm does not light the
    lamp, 8 mm does; let go, the spring returns the cap and the lamp stays lit until a reset."""
    button = Button("button", front_x_m=2.0, center_y_m=0.0)
    body = SimBody(g1_basic, world=WorldSpec(buttons=(button,)))
    press, lamp = body.data.joint("button_press"), body.model.geom("button_lamp")
    for depth_m, lit in ((0.003, False), (0.008, True)):
        press.qpos[0] = depth_m
        body.step(None)
        assert body.lamps.lit["button"] is lit
    for _ in range(100):
        body.step(None)
    assert abs(float(press.qpos[0])) < 5e-4                              # sprung back out
    assert body.lamps.lit["button"] and np.allclose(lamp.rgba, button.lamp_rgba)
    body.reset(0)
    assert not body.lamps.lit["button"] and np.allclose(lamp.rgba, LAMP_OFF_RGBA)


def test_bad_world_descriptions() -> None:
    with pytest.raises(WorldError, match="terrain kind 'lava' is unknown"):
        Terrain(kind="lava")  # type: ignore[arg-type]
    with pytest.raises(WorldError, match="size_m needs 3 positive values"):
        Thing("b", "box", (0.1, 0.1), 1.0, (0, 0, 0))
    with pytest.raises(WorldError, match="shape 'cone' is unknown"):
        Thing("c", "cone", (0.1,), 1.0, (0, 0, 0))
    with pytest.raises(WorldError, match="must be 2 or more spacings"):
        Towel("t", (0.5, 0.0), 0.7, size_m=(0.15, 0.224))
    with pytest.raises(WorldError, match="trigger_m < travel_m < cap_out_m"):
        Button("b", front_x_m=0.5, center_y_m=0.0, trigger_m=0.02)


def test_head_camera_sees_the_table(g1_functional: RobotDescription) -> None:
    body = SimBody(g1_functional, world=WorldSpec(tables=(TABLE,), things=(BOX,)), cameras=True)
    try:
        controller = StandController(g1_functional)
        state = body.reset(0)
        for _ in range(100):
            state = body.step(controller(state))
        frame = state.rgbd["head"]
        spec = g1_functional.catalog.get("camera", "realsense-d435")
        assert frame.rgb.shape == (spec.height_px, spec.width_px, 3)
        assert frame.time_s <= state.time_s - spec.latency_s + 1e-9
        # the table top fills the middle of the image, about a metre away and below the head
        centre = frame.depth_m[spec.height_px // 2 - 5: spec.height_px // 2 + 5,
                               spec.width_px // 2 - 5: spec.width_px // 2 + 5]
        assert 0.5 < float(np.median(centre)) < 1.5
        # the red box is in view: some pixels are strongly red
        r, g, b = (frame.rgb[..., i].astype(int) for i in range(3))
        assert ((r > 150) & (g < 80) & (b < 80)).sum() > 20
    finally:
        body.close()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_cross_slope_inclines_across_the_way_by_its_angle(g1_basic: RobotDescription, seed: int) -> None:
    """Where the robot walks on it (y within 0.2 m of the way), the cross-slope is one plane
    inclined by its angle about the walking direction; it rises from the level floor."""
    import mujoco

    terrain = Terrain(kind="cross-slope", slope_deg=10.0, length_m=3.0)
    body = SimBody(g1_basic, world=WorldSpec(terrain=terrain, seed=seed))
    geom_id = np.array([-1], dtype=np.int32)

    def ground_z(x: float, y: float) -> float:
        return 5.0 - mujoco.mj_ray(body.model, body.data, np.array([x, y, 5.0]), np.array([0.0, 0.0, -1.0]), None, 1,
                                   body.model.body(g1_basic.base_link).id, geom_id)

    assert ground_z(0.9, 0.0) == pytest.approx(0.0, abs=1e-6)           # level floor before it
    for x in (3.0, 3.8, 4.6):                                             # the inclined stretch
        rise = ground_z(x, 0.2) - ground_z(x, -0.2)
        assert abs(rise) == pytest.approx(0.4 * np.tan(np.radians(10.0)), abs=2e-3)
        assert ground_z(x, 0.0) == pytest.approx((ground_z(x, 0.2) + ground_z(x, -0.2)) / 2, abs=2e-3)

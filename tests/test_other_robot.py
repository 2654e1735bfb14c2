"""Any humanoid URDF joins by writing a description file: no code changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from laoshan.cerebellum.locomotion import LocomotionController
from laoshan.cerebellum.stand import StandController
from laoshan.components.catalog import load_catalog
from laoshan.robot.description import RobotConfigError, RobotDescription, load_description
from laoshan.scenarios.stand import StandScenario, run_stand
from laoshan.scenarios.walk import WalkScenario, run_walk
from laoshan.sim.body import SimBody

LEG = """
  <link name="{s}_thigh"><inertial><origin xyz="0 0 -0.2"/><mass value="2.0"/>
    <inertia ixx="0.03" iyy="0.03" izz="0.005" ixy="0" ixz="0" iyz="0"/></inertial>
    <collision><origin xyz="0 0 -0.2"/><geometry><box size="0.06 0.06 0.4"/></geometry></collision></link>
  <joint name="{s}_hip_pitch" type="revolute"><parent link="pelvis"/><child link="{s}_thigh"/>
    <origin xyz="0 {y} -0.05"/><axis xyz="0 1 0"/><limit lower="-1.5" upper="1.5" effort="80" velocity="20"/></joint>
  <link name="{s}_foot"><inertial><origin xyz="0.03 0 -0.03"/><mass value="0.5"/>
    <inertia ixx="0.001" iyy="0.002" izz="0.002" ixy="0" ixz="0" iyz="0"/></inertial>
    <collision><origin xyz="0.03 0 -0.03"/><geometry><box size="0.2 0.08 0.02"/></geometry></collision></link>
  <joint name="{s}_ankle_pitch" type="revolute"><parent link="{s}_thigh"/><child link="{s}_foot"/>
    <origin xyz="0 0 -0.4"/><axis xyz="0 1 0"/><limit lower="-0.8" upper="0.8" effort="40" velocity="20"/></joint>
"""

URDF = f"""<robot name="stilt">
  <link name="pelvis"><inertial><origin xyz="0 0 0.1"/><mass value="8.0"/>
    <inertia ixx="0.1" iyy="0.1" izz="0.05" ixy="0" ixz="0" iyz="0"/></inertial>
    <collision><origin xyz="0 0 0.1"/><geometry><box size="0.15 0.25 0.25"/></geometry></collision></link>
  <link name="imu_link"/>
  <joint name="imu_joint" type="fixed"><parent link="pelvis"/><child link="imu_link"/></joint>
  {LEG.format(s="left", y=0.1)}{LEG.format(s="right", y=-0.1)}
</robot>"""

DESCRIPTION = """
name = "stilt"
product = "basic"
summary = "A four-joint test humanoid"
urdf = "stilt.urdf"
base_link = "pelvis"
controller = "g1-onboard"
battery = "g1-9ah"
encoder = "g1-joint-encoder"
motors = [
  {{ joint = "left_hip_pitch", part = "g1-hip-88", home_rad = 0.0, kp_Nm_rad = 300, kd_Nms_rad = 6 }},
  {{ joint = "left_ankle_pitch", part = "g1-ankle-50", home_rad = 0.0, kp_Nm_rad = 300, kd_Nms_rad = 6 }},
  {{ joint = "right_hip_pitch", part = "g1-hip-88", home_rad = 0.0, kp_Nm_rad = 300, kd_Nms_rad = 6 }},
  {{ joint = "right_ankle_pitch", part = "g1-ankle-50", home_rad = 0.0, kp_Nm_rad = 300, kd_Nms_rad = 6 }},
]
[feet.left]
link = "left_foot"
sole_points_m = {sole}
sole_radius_m = 0.01
force_part = "g1-foot-force"
[feet.right]
link = "right_foot"
sole_points_m = {sole}
sole_radius_m = 0.01
force_part = "g1-foot-force"
[hands]
[imu]
link = "imu_link"
part = "g1-imu"
""".format(sole="[[-0.07, 0.04, -0.03], [-0.07, -0.04, -0.03], [0.13, 0.04, -0.03], [0.13, -0.04, -0.03]]")


@pytest.fixture()
def stilt_file(tmp_path: Path) -> Path:
    (tmp_path / "stilt.urdf").write_text(URDF)
    path = tmp_path / "stilt.toml"
    path.write_text(DESCRIPTION)
    return path


def test_a_new_humanoid_builds_and_stands(stilt_file: Path) -> None:
    robot = load_description(stilt_file)
    body = SimBody(robot)
    assert body.model.body_subtreemass[body.model.body("pelvis").id] == pytest.approx(13.0)
    controller = StandController(robot)
    state = body.reset(0)
    for _ in range(1000):
        state = body.step(controller(state))
    truth = body.ground_truth()
    assert truth.p_world_base_m[2] > 0.4            # still upright on its sole contacts
    assert state.foot_force_N.sum() == pytest.approx(13.0 * 9.81, rel=0.1)
    assert np.isfinite(state.imu_state.quaternion).all()


# --- a second real humanoid: PAL Robotics TALOS from example-robot-data, by description and catalog alone ---

TALOS = Path(__file__).resolve().parents[1] / "examples" / "talos"


@pytest.fixture(scope="module")
def talos() -> RobotDescription:
    return load_description(TALOS / "talos.toml", load_catalog(TALOS / "catalog.toml"))


def test_talos_stands_on_joint_pd_from_its_description(talos: RobotDescription) -> None:
    report = run_stand(StandScenario(seconds=3.0, seed=3), robot=talos)
    assert not report.fell and not report.safety_trips
    assert report.pelvis_height_min_m > 0.95                  # pelvis at its half-sitting height (1.02 m), not sagging


def test_talos_walks_2_m_and_turns_with_the_g1s_controller(talos: RobotDescription) -> None:
    walk = run_walk(WalkScenario(vx_m_s=0.3, seconds=9.0, seed=3), robot=talos)
    assert not walk.fell and not walk.safety_trips and walk.limited is None
    assert walk.displacement_m > 2.0 and abs(walk.yaw_change_rad) < 0.1
    turn = run_walk(WalkScenario(vx_m_s=0.0, yaw_rate_rad_s=0.3, seconds=8.0, seed=4), robot=talos)
    assert not turn.fell and turn.yaw_change_rad > np.pi / 2 and turn.displacement_m < 0.3   # 90 degrees in place


def test_a_description_without_a_gait_says_what_walking_needs(talos: RobotDescription, tmp_path: Path) -> None:
    text = (TALOS / "talos.toml").read_text()
    cut = tmp_path / "talos.toml"
    cut.write_text(text[:text.index("[gait]")])
    robot = load_description(cut, load_catalog(TALOS / "catalog.toml"))
    with pytest.raises(RobotConfigError, match="no \\[gait\\] table.*com_height_m.*max_step_forward_m"):
        LocomotionController(robot)
    cut.write_text(text.replace("com_height_m = 0.86\n", ""))
    with pytest.raises(RobotConfigError, match="gait: missing field 'com_height_m'"):
        load_description(cut, load_catalog(TALOS / "catalog.toml"))

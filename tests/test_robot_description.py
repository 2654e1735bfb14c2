"""Robot files: shipped robots load; bad files give a clear error naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from laoshan.robot.description import RobotConfigError, load_description, robot_files


def test_shipped_robots() -> None:
    assert {"g1-basic", "g1-functional"} <= set(robot_files())
    basic, functional = load_description("g1-basic"), load_description("g1-functional")
    assert len(basic.motors) == 29 and basic.product == "basic"
    assert len(functional.motors) == 43 and functional.product == "functional"
    # G1 low-level order: legs first, then waist, then arms
    assert basic.joint_names[0] == "left_hip_pitch_joint"
    assert basic.joint_names[12] == "waist_yaw_joint"
    assert basic.joint_names[28] == "right_wrist_yaw_joint"
    assert [c.name for c in functional.cameras] == ["head"]
    assert len(functional.touch) == 8


def test_torque_limits_per_joint_are_g1s() -> None:
    d = load_description("g1-basic")
    peak = {m.joint: d.catalog.get("motor", m.part).peak_torque_Nm for m in d.motors}
    assert peak["left_hip_pitch_joint"] == 88 and peak["right_knee_joint"] == 139
    assert peak["left_ankle_pitch_joint"] == 50 and peak["waist_pitch_joint"] == 50
    assert peak["left_shoulder_pitch_joint"] == 25 and peak["right_wrist_yaw_joint"] == 5


def edited(tmp_path: Path, old: str, new: str) -> Path:
    text = robot_files()["g1-basic"].read_text()
    assert old in text, old
    path = tmp_path / "robot.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_a_new_robot_file_by_path_needs_no_code(tmp_path: Path) -> None:
    path = edited(tmp_path, 'name = "g1-basic"', 'name = "g1-strong-arms"')
    path.write_text(path.read_text().replace('"g1-arm-25"', '"g1-arm-40-hd"'))
    desc = load_description(path)
    assert desc.name == "g1-strong-arms"
    assert desc.catalog.get("motor", desc.motors[15].part).peak_torque_Nm == 40.0


@pytest.mark.parametrize(("old", "new", "message"), [
    ('{ joint = "left_knee_joint", part = "g1-knee-139", home_rad = 0.30, kp_Nm_rad = 300, kd_Nms_rad = 6 },\n',
     "", r"motors: joints of the URDF without a motor: \['left_knee_joint'\]"),
    ('joint = "left_knee_joint"', 'joint = "left_knee"', r"motors\[3\].joint: joint 'left_knee' is not"),
    ('part = "g1-knee-139"', 'part = "g1-knee-999"', r"motors\[3\].part: unknown motor part 'g1-knee-999'"),
    ("home_rad = 0.30", "home_rad = 30.0", r"motors\[3\].home_rad=30.0 is outside .* rad"),
    ("sole_radius_m = 0.005", "sole_radius_m = 5", r"feet.left.sole_radius_m=5 is outside"),
    ('link = "imu_in_pelvis"', 'link = "imu_link"', r"imu.link: link 'imu_link' is not in"),
    ('battery = "g1-9ah"', 'battery = "g1-9"', r"battery: unknown battery part 'g1-9'"),
    ('product = "basic"', 'product = "deluxe"', r"product: expected 'basic' or 'functional'"),
    ('encoder = "g1-joint-encoder"', 'encoder = "g1-joint-encoder"\ncolour = "red"',
     r"unknown field\(s\) \['colour'\]"),
])
def test_bad_robot_file_names_the_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(RobotConfigError, match=message):
        load_description(edited(tmp_path, old, new))


def test_unknown_robot_name() -> None:
    with pytest.raises(RobotConfigError, match="unknown robot 'g2'.*g1-basic"):
        load_description("g2")

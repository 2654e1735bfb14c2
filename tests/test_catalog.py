"""Malformed catalog parts give clear errors that name the part and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from laoshan.components.catalog import CatalogError, load_catalog

GOOD_MOTOR = """
[motor.test-motor]
description = "test"
peak_torque_Nm = 10.0
rated_torque_Nm = 4.0
knee_speed_rad_s = 10.0
no_load_speed_rad_s = 20.0
armature_kgm2 = 0.001
coulomb_friction_Nm = 0.1
viscous_damping_Nms = 0.01
winding_resistance_ohm = 0.3
torque_constant_Nm_A = 0.5
thermal_capacity_J_K = 100.0
thermal_resistance_K_W = 2.0
derate_start_C = 90.0
max_temperature_C = 120.0
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "extra.toml"
    path.write_text(text)
    return path


def test_stock_catalog_has_every_kind() -> None:
    catalog = load_catalog()
    assert set(catalog.kinds()) == {"motor", "encoder", "imu", "force", "touch", "camera", "battery", "controller"}
    assert catalog.get("motor", "g1-knee-139").peak_torque_Nm == 139.0


def test_extra_catalog_adds_parts(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, GOOD_MOTOR))
    assert catalog.get("motor", "test-motor").peak_torque_Nm == 10.0
    assert catalog.get("motor", "g1-hip-88").peak_torque_Nm == 88.0


@pytest.mark.parametrize(("edit", "message"), [
    (("peak_torque_Nm = 10.0", "peak_torque = 10.0"), r"unknown field\(s\) \['peak_torque'\]"),
    (("peak_torque_Nm = 10.0\n", ""), "motor.test-motor: missing field 'peak_torque_Nm'"),
    (("peak_torque_Nm = 10.0", 'peak_torque_Nm = "ten"'), r"motor.test-motor.peak_torque_Nm: expected a number"),
    (("peak_torque_Nm = 10.0", "peak_torque_Nm = 10000.0"), "implausible"),
    (("knee_speed_rad_s = 10.0", "knee_speed_rad_s = 30.0"), "knee_speed_rad_s must be below"),
])
def test_bad_part_is_named(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        load_catalog(write(tmp_path, GOOD_MOTOR.replace(*edit)))


def test_unknown_kind_and_part(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="unknown part kind 'wheel'"):
        load_catalog(write(tmp_path, "[wheel.x]\ndescription = 'x'\n"))
    with pytest.raises(CatalogError, match="unknown motor part 'nope'"):
        load_catalog().get("motor", "nope")

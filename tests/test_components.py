"""Each component model's law against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from laoshan.components.actuator import ActuatorBank, thermal_derating, torque_window
from laoshan.components.battery import Battery
from laoshan.components.catalog import load_catalog
from laoshan.components.loop import LoopSpec, Watchdog
from laoshan.components.sensors import Encoders, Imu, Sampler, quat_to_rpy

CATALOG = load_catalog()


def test_driver_law_coefficients() -> None:
    bank = ActuatorBank([CATALOG.get("motor", "g1-hip-88")] * 2, control_dt_s=0.002)
    # rows: q*, dq*, kp, kd, tau_ff
    command = np.array([[0.5, -0.2], [1.0, 0.0], [100.0, 20.0], [2.0, 1.0], [3.0, -1.0]])
    u, kp, kd = bank.driver_law(command)
    q, dq = np.array([0.4, 0.0]), np.array([0.5, 0.3])
    tau = u - kp * q - kd * dq
    # by hand: 100*(0.5-0.4) + 2*(1.0-0.5) + 3 = 14;  20*(-0.2-0) + 1*(0-0.3) - 1 = -5.3
    assert tau == pytest.approx([14.0, -5.3])


def test_command_delay_holds_back_the_command() -> None:
    spec = CATALOG.get("motor", "g1-arm-40-hd")   # 0.5 ms delay
    bank = ActuatorBank([spec], control_dt_s=0.0005)
    first = np.array([[0.0], [0.0], [10.0], [0.0], [0.0]])
    second = np.array([[0.0], [0.0], [20.0], [0.0], [0.0]])
    bank.driver_law(first)
    _, kp, _ = bank.driver_law(second)
    assert kp[0] == 10.0   # one tick late


def test_torque_speed_envelope() -> None:
    peak, knee, no_load = np.full(5, 88.0), np.full(5, 20.0), np.full(5, 32.0)
    dq = np.array([0.0, 10.0, 26.0, -26.0, 40.0])
    lo, hi = torque_window(peak, knee, no_load, dq)
    # driving side falls linearly from the knee (20) to zero at no-load (32): at 26 rad/s, half
    assert hi == pytest.approx([88.0, 88.0, 44.0, 88.0, 0.0])
    assert lo == pytest.approx([-88.0, -88.0, -88.0, -44.0, -88.0])


def test_thermal_derating_and_heating() -> None:
    assert thermal_derating(np.array([25.0, 90.0, 105.0, 130.0]), np.full(4, 90.0), np.full(4, 120.0)) == \
        pytest.approx([1.0, 1.0, 0.5, 0.0])
    spec = CATALOG.get("motor", "g1-knee-139")
    bank = ActuatorBank([spec], control_dt_s=0.002)
    tau = np.array([60.0])
    bank.account(tau, np.array([2.0]))
    copper_W = (60.0 / spec.torque_constant_Nm_A) ** 2 * spec.winding_resistance_ohm
    assert bank.copper_loss_W[0] == pytest.approx(copper_W)
    assert bank.power_W[0] == pytest.approx(60.0 * 2.0 + copper_W)
    assert bank.temperature_C[0] == pytest.approx(25.0 + 0.002 * copper_W / spec.thermal_capacity_J_K)


def test_hot_motor_is_derated_and_recovers() -> None:
    spec = CATALOG.get("motor", "g1-knee-139")    # derates from 90 °C to zero at 120 °C
    bank = ActuatorBank([spec], control_dt_s=0.002)
    bank.temperature_C[:] = 105.0
    bank.account(np.zeros(1), np.zeros(1))
    lo, hi = bank.torque_limits(np.zeros(1))
    heat_out = (105.0 - 25.0) / spec.thermal_resistance_K_W * 0.002 / spec.thermal_capacity_J_K
    expected = 139.0 * (120.0 - (105.0 - heat_out)) / 30.0     # about half the peak
    assert hi[0] == pytest.approx(expected) and lo[0] == pytest.approx(-expected)
    bank.temperature_C[:] = 40.0
    bank.account(np.zeros(1), np.zeros(1))
    assert bank.torque_limits(np.zeros(1))[1][0] == 139.0


def test_battery_voltage_sag_and_soc() -> None:
    spec = CATALOG.get("battery", "g1-9ah")
    battery = Battery(spec, soc=1.0)
    assert battery.open_circuit_V(1.0) == pytest.approx(4.2 * 13)
    assert battery.open_circuit_V(0.5) == pytest.approx((3.68 + 3.80) / 2 * 13)
    state = battery.step(1000.0, 1.0)
    ocv, r = 54.6, 0.10
    current = (ocv - math.sqrt(ocv * ocv - 4 * r * 1000.0)) / (2 * r)   # P = (OCV - I R) I
    assert state.current_A == pytest.approx(current)       # about 18.97 A
    assert state.voltage_V == pytest.approx(ocv - current * r)
    assert state.voltage_V * state.current_A == pytest.approx(1000.0)
    assert state.soc == pytest.approx(1.0 - current / (3600 * 9.0))
    assert state.fault == ""


def test_battery_bms_trips() -> None:
    spec = CATALOG.get("battery", "g1-9ah")
    assert "over-current" in Battery(spec).step(4000.0, 0.01).fault   # ~80 A > 60 A
    assert "under-voltage" in Battery(spec, soc=0.0).step(100.0, 0.01).fault
    runtime_h = Battery(spec).runtime_estimate_s(100.0) / 3600
    assert runtime_h == pytest.approx(spec.energy_Wh / 100.0, rel=0.02)


def test_encoder_quantization_and_noise() -> None:
    spec = CATALOG.get("encoder", "g1-joint-encoder")
    enc = Encoders(spec, 1000, np.random.default_rng(0))
    q, dq = enc.measure(np.full(1000, 0.3), np.zeros(1000))
    step = 2 * math.pi / spec.counts_per_rev
    assert np.allclose(np.round(q / step) * step, q)
    assert np.std(q - 0.3) == pytest.approx(math.hypot(spec.position_noise_rad, step / math.sqrt(12)), rel=0.15)
    assert np.std(dq) == pytest.approx(spec.velocity_noise_rad_s, rel=0.15)


def test_imu_bias_is_seeded_and_noise_is_small() -> None:
    spec = CATALOG.get("imu", "g1-imu")
    a, b = Imu(spec, np.random.default_rng(3)), Imu(spec, np.random.default_rng(3))
    assert np.array_equal(a.gyro_bias, b.gyro_bias)
    reading = a.measure(np.array([1.0, 0, 0, 0]), np.zeros(3), np.array([0, 0, 9.81]))
    assert np.linalg.norm(reading.quaternion) == pytest.approx(1.0)
    assert np.abs(reading.rpy).max() < 10 * spec.orientation_noise_rad
    assert reading.accelerometer[2] == pytest.approx(9.81, abs=0.3)


def test_quat_to_rpy() -> None:
    half = math.pi / 8   # 45 degrees of yaw
    assert quat_to_rpy(np.array([math.cos(half), 0, 0, math.sin(half)])) == pytest.approx([0, 0, math.pi / 4])


def test_sampler_rate_and_latency() -> None:
    sampler: Sampler[int] = Sampler(rate_Hz=100.0, latency_s=0.015)
    released = []
    for k in range(50):                     # a 500 Hz loop over 0.1 s
        t = k * 0.002
        if sampler.due(t):
            sampler.push(t, k)
        released.append(sampler.latest(t))
    assert released[0] is None
    assert released[8] == 0                 # sample of t=0 released at 15 ms (tick 7.5 -> 8)
    assert sorted(set(v for v in released if v is not None)) == [0, 5, 10, 15, 20, 25, 30, 35, 40]


def test_watchdog_and_loop_spec() -> None:
    dog = Watchdog(0.05)
    assert not dog.tripped(1.0)             # nothing seen yet: not armed
    dog.feed(1.0)
    assert not dog.tripped(1.05)
    assert dog.tripped(1.052)
    with pytest.raises(ValueError, match="integer multiple"):
        LoopSpec("x", physics_rate_Hz=1000.0, control_rate_Hz=300.0, watchdog_timeout_s=0.05,
                 damping_kd_Nms=1.0, idle_power_W=0.0)

"""Safety under fault injection: fuzzed commands, a silent controller, false trips, fall warning,
sensor faults, memory over an hour, and the kiosk under malformed and concurrent requests.

Sections (``--only`` runs some and updates them in the JSON file):

- ``fuzz``: 100,000 fuzzed commands (every kind of ``laoshan.bench.fuzz``) to a G1 held standing by
  the joint-PD stand between them: exceptions escaping ``SimBody.step``, invalid commands accepted
  (and valid ones rejected) against the contract written out plainly, limb joints past their stop
  by more than the margin, motor torque over peak, non-finite state (ground truth).
- ``silent``: the controller stops sending commands while the robot stands: time until the drivers
  damp, and how it comes down (with the drivers' damping, and with a controller part that has none).
- ``false_trips``: 10 simulated minutes standing and 10 walking a circle (0.3 m/s, 0.1 rad/s) on the
  whole-body controller: safety stops and falls.
- ``fall_lead``: shoves that topple the standing robot from 4 directions, 5 seeds each: how long
  the fall flag comes before the first part other than a sole touches the floor.
- ``faults``: sensor faults over 20 seeds each (one NaN encoder or IMU sample, stale encoders, a dead
  encoder, the IMU's noise and biases x10 (a catalog part swapped), camera frames lost), while
  walking (and standing, for the lasting encoder faults): survival and the stop taken.
- ``memory``: one simulated hour standing (joint-PD stand with the monitors): resident memory growth
  from the 6th minute to the end.
- ``kiosk``: ``laoshan serve`` in its own process on loopback: malformed requests (each must get its
  4xx), then 500 concurrent turns: errors, replies lost, latency.

Seeds 0-49 (never used while tuning). Prints a table and writes JSON.

    python benchmarks/safety.py [--quick] [--only fuzz faults ...] [--out benchmarks/results/safety.json]
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import subprocess
import sys
import time
from dataclasses import replace

import laoshan  # noqa: F401  (first: it selects MuJoCo's offscreen GL backend before mujoco loads)
import numpy as np

from laoshan.bench.fuzz import KINDS, contract_holds, random_command
from laoshan.bench.report import benchmark_args, format_table, update_json, write_json
from laoshan.cerebellum.locomotion import LocomotionController
from laoshan.cerebellum.stand import StandController
from laoshan.components.catalog import Catalog
from laoshan.limbs.reach import ReachController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.executive.look import CameraLost, Glance
from laoshan.sim.scoring import has_fallen
from laoshan.scenarios.stand import StandScenario, run_stand
from laoshan.sim.body import SimBody
from laoshan.sim.faults import FaultInjector, InjectedFault
from laoshan.port.messages import JOINT_LIMIT_MARGIN_RAD

SECTIONS = ("fuzz", "silent", "false_trips", "fall_lead", "faults", "memory", "kiosk")
DIRECTIONS = {"front": 0.0, "left": 90.0, "back": 180.0, "right": 270.0}


# --- fuzz ---------------------------------------------------------------------------------------

def fuzz(robot: RobotDescription, commands: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    body = SimBody(robot, seed=seed)
    limits, limb = body.limits, body.limb_joints
    counts = dict.fromkeys(("exceptions", "invalid_accepted", "valid_rejected", "limit_excursions",
                            "torque_over_peak", "non_finite_state", "resets"), 0)
    by_kind = dict.fromkeys(KINDS, 0)
    worst_past_rad = 0.0
    sent = 0
    while sent < commands:
        state, stand = body.reset(int(rng.integers(0, 2**31))), StandController(robot)
        counts["resets"] += 1
        for _ in range(1000):                   # a fuzzed command every other tick, the stand's between
            state = body.step(stand(state))
            kind = KINDS[int(rng.integers(0, len(KINDS)))]
            cmd = random_command(rng, limits, kind)
            by_kind[kind] += 1
            sent += 1
            try:
                state = body.step(cmd)
            except Exception:  # noqa: BLE001 (counted: this is what the benchmark looks for)
                counts["exceptions"] += 1
                continue
            valid = contract_holds(cmd, limits)
            counts["invalid_accepted"] += int(not valid and not state.cmd_rejected)
            counts["valid_rejected"] += int(valid and bool(state.cmd_rejected))
            d = body.data
            q = d.qpos[body.qadr]
            past = float(np.max(np.maximum(limits.q_min_rad - q, q - limits.q_max_rad)[limb]))
            worst_past_rad = max(worst_past_rad, past)
            counts["limit_excursions"] += int(past > JOINT_LIMIT_MARGIN_RAD)
            counts["torque_over_peak"] += int(np.any(np.abs(d.actuator_force[:limits.n]) > limits.tau_max_Nm + 1e-9))
            counts["non_finite_state"] += int(not (np.isfinite(d.qpos).all() and np.isfinite(d.qvel).all()
                                                   and np.isfinite(state.motor_state.q).all()))
            if sent >= commands or has_fallen(body.ground_truth()):
                break
        print(f"  fuzz: {sent} commands, {counts}", flush=True)
    return {"commands": sent, **counts, "by_kind": by_kind, "worst_limb_joint_past_limit_rad": worst_past_rad}


# --- silent -------------------------------------------------------------------------------------

def with_part(robot: RobotDescription, kind: str, name: str, spec: object) -> RobotDescription:
    """The robot with a catalog part swapped for ``spec`` (registered as ``name``)."""
    catalog = robot.catalog.merged(Catalog({kind: {name: spec}}))
    if kind == "imu":
        return replace(robot, imu=replace(robot.imu, part=name), catalog=catalog)
    return replace(robot, **{kind: name}, catalog=catalog)


def without_damping(robot: RobotDescription) -> RobotDescription:
    """The robot with a controller part whose drivers do not damp when commands stop (limp)."""
    loop = robot.catalog.get("controller", robot.controller)
    return with_part(robot, "controller", f"{robot.controller}-no-damping", replace(loop, damping_kd_Nms=0.0))


def noisier_imu(robot: RobotDescription, factor: float) -> RobotDescription:
    """The robot with its IMU's noise and biases ``factor`` times larger (same rate and latency)."""
    imu = robot.catalog.get("imu", robot.imu.part)
    worse = replace(imu, **{k: factor * getattr(imu, k) for k in ("gyro_noise_rad_s", "gyro_bias_rad_s",
                                                                  "accel_noise_m_s2", "accel_bias_m_s2",
                                                                  "orientation_noise_rad")})
    return with_part(robot, "imu", f"{robot.imu.part}-x{factor:g}", worse)


def silent(robot: RobotDescription, seeds: range) -> dict:
    out = {}
    for label, desc in (("damping", robot), ("limp (no damping, for comparison)", without_damping(robot))):
        to_damp, down_s, speed = [], [], []
        for seed in seeds:
            body, controller = SimBody(desc, seed=seed), LocomotionController(desc)
            state = body.reset(seed)
            for _ in range(1000):                                  # stand 2 s on the whole-body controller
                state = body.step(controller(state))
            silent_s, damped_s, fell_s, peak = body.time_s, None, None, 0.0
            for _ in range(1500):                                  # then nothing comes for 3 s
                state = body.step(None)
                truth = body.ground_truth()
                if damped_s is None and state.damping_active:
                    damped_s = body.time_s - silent_s
                peak = max(peak, -float(truth.v_world_base_m_s[2]))
                if fell_s is None and has_fallen(truth):
                    fell_s = body.time_s - silent_s
            to_damp.append(damped_s if damped_s is not None else math.inf)
            down_s.append(fell_s if fell_s is not None else math.inf)
            speed.append(peak)
        out[label] = {"time_to_damping_ms_max": max(to_damp) * 1e3, "time_to_ground_s_median": float(np.median(down_s)),
                      "pelvis_peak_fall_speed_m_s_median": float(np.median(speed)), "runs": len(seeds)}
        print(f"  silent, {label}: {out[label]}", flush=True)
    return out


# --- false trips --------------------------------------------------------------------------------

def false_trips(robot: RobotDescription, seconds: float) -> dict:
    out = {}
    for label, command in (("standing", (0.0, 0.0, 0.0)), ("walking a circle", (0.3, 0.0, 0.1))):
        body, controller = SimBody(robot, seed=7), LocomotionController(robot)
        state = body.reset(7)
        fell = False
        for k in range(int(round(seconds / body.loop.control_dt_s))):
            if k == 250:
                controller.set_velocity(*command)
            state = body.step(controller(state))
            fell = fell or has_fallen(body.ground_truth())
        out[label] = {"seconds": seconds, "trips": len(controller.safety.trips), "fell": fell,
                      "first_trips": list(controller.safety.trip_log()[:3]),
                      "sensor_samples_rejected": controller.sensors.rejected_samples}
        print(f"  false trips, {label}: {out[label]}", flush=True)
    return out


# --- fall lead ----------------------------------------------------------------------------------

def fall_lead(robot: RobotDescription, seeds: range, impulse_Ns: float) -> dict:
    runs = []
    for name, deg in DIRECTIONS.items():
        for seed in seeds:
            body, controller = SimBody(robot, seed=seed), LocomotionController(robot)
            state = body.reset(seed)
            a = math.radians(deg)
            touch_s = None
            for k in range(2500):
                if k == 500:
                    body.push([impulse_Ns * math.cos(a), impulse_Ns * math.sin(a), 0.0], 0.1)
                state = body.step(controller(state))
                if k > 500 and body.ground_truth_touches_down():
                    touch_s = body.time_s
                    break
            flag_s = controller.safety.fall_time_s
            lead = (touch_s - flag_s) if touch_s is not None and flag_s is not None else None
            runs.append({"direction": name, "seed": seed, "flag_s": flag_s, "touch_s": touch_s,
                         "lead_ms": None if lead is None else lead * 1e3})
    leads = [r["lead_ms"] for r in runs if r["lead_ms"] is not None]
    out = {"impulse_Ns": impulse_Ns, "runs": runs, "fell": sum(r["touch_s"] is not None for r in runs),
           "flagged_before_touch": sum(1 for x in leads if x > 0), "lead_ms_min": min(leads) if leads else None,
           "lead_ms_median": float(np.median(leads)) if leads else None}
    print(f"  fall lead: {len(runs)} runs, fell {out['fell']}, lead min {out['lead_ms_min']} ms, "
          f"median {out['lead_ms_median']} ms", flush=True)
    return out


# --- sensor faults ------------------------------------------------------------------------------

def fault_run(robot: RobotDescription, kind: str, seed: int, walking: bool) -> dict:
    """One run: stand 0.5 s, walk (or stand) on; the fault begins at a seeded time 1.5-2.5 s; 6 s in all."""
    rng = np.random.default_rng(seed)
    start_s, joint = float(rng.uniform(1.5, 2.5)), int(rng.integers(0, 12))      # a leg joint
    desc = noisier_imu(robot, 10.0) if kind == "imu_x10" else robot
    body, controller = SimBody(desc, seed=seed), LocomotionController(desc)
    inject = FaultInjector(InjectedFault(kind, start_s, joint)) if kind != "imu_x10" else (lambda s: s)
    state = body.reset(seed)
    fell = False
    for k in range(3000):
        if k == 250 and walking:
            controller.set_velocity(0.3)
        state = body.step(controller(inject(state)))
        if has_fallen(body.ground_truth()):
            fell = True
            break
    trips = controller.safety.trips
    stop = "none" if not trips else ("category 2 hold" if controller.status.hold and not controller.fallen
                                     else f"category {int(trips[0].category)}")
    if controller.fallen:
        stop += " then fall flagged"
    return {"fell": fell, "stop": stop, "rejected_samples": controller.sensors.rejected_samples}


def camera_run(robot: RobotDescription, seed: int) -> dict:
    """The camera's frames stop at 0.5 s; a look asked at 1 s must end in a category 2 stop (the
    task given up, CameraLost) with the robot still balancing 2 s later."""
    body = SimBody(robot, seed=seed, cameras=True)
    controller = ReachController(robot)
    inject = FaultInjector(InjectedFault("camera_lost", 0.5))
    state = body.reset(seed)
    glance, stop = None, "none"
    fell = False
    try:
        for _ in range(2500):
            state = inject(state)
            if glance is None and state.time_s >= 1.0:
                glance = Glance(body, controller, state.time_s)
            if glance is not None and stop == "none":
                try:
                    glance.seen(state)
                except CameraLost:
                    stop = "category 2 (look given up: CameraLost)"
            state = body.step(controller(state))
            fell = fell or has_fallen(body.ground_truth())
    finally:
        body.close()
    return {"fell": fell, "stop": stop, "rejected_samples": 0}


def faults(robot: RobotDescription, camera_robot: RobotDescription, seeds: range) -> dict:
    plan = [(kind, True) for kind in ("nan_encoder", "nan_imu", "stale_encoders", "dead_encoder", "imu_x10")]
    plan += [("stale_encoders", False), ("dead_encoder", False)]
    out = {}
    for kind, walking in [*plan, ("camera_lost", False)]:
        label = f"{kind} ({'walking' if walking else 'standing'})"
        runs = [camera_run(camera_robot, s) if kind == "camera_lost" else fault_run(robot, kind, s, walking)
                for s in seeds]
        stops: dict[str, int] = {}
        for r in runs:
            stops[r["stop"]] = stops.get(r["stop"], 0) + 1
        out[label] = {"runs": len(runs), "survived": sum(not r["fell"] for r in runs), "stops": stops}
        print(f"  faults, {label}: {out[label]}", flush=True)
    return out


# --- memory -------------------------------------------------------------------------------------

def resident_MB() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory(robot: RobotDescription, seconds: float) -> dict:
    samples: list[tuple[float, float]] = []
    done = [0]
    every = int(round(seconds * 500 / 20))                 # 20 samples over the run

    def progress(ticks: int) -> None:
        done[0] += ticks
        if done[0] % every < ticks:
            samples.append((done[0] / 500.0, resident_MB()))

    report = run_stand(StandScenario(seconds=seconds, seed=3), progress, robot)
    after = [mb for t, mb in samples if t >= seconds / 10]
    growth = (after[-1] - after[0]) / after[0] if len(after) > 1 else 0.0
    out = {"simulated_s": seconds, "fell": report.fell, "trips": list(report.safety_trips),
           "rss_MB_at_10pct": after[0] if after else None, "rss_MB_end": after[-1] if after else None,
           "growth_fraction": growth, "real_time_factor": report.real_time_factor,
           "samples": [[round(t, 1), round(mb, 2)] for t, mb in samples]}
    print(f"  memory: {out['rss_MB_at_10pct']} -> {out['rss_MB_end']} MB ({growth:+.3%}) over {seconds:g} s",
          flush=True)
    return out


# --- kiosk --------------------------------------------------------------------------------------

MALFORMED = {      # name: (raw request, status expected)
    "deep JSON": (b"[" * 5000, 400), "not JSON": (b"hello", 400), "not UTF-8": (b'{"text": "\xff"}', 400),
    "no text": (b'{"person": "a"}', 400), "text not a string": (b'{"text": 5}', 400),
    "oversized body": (b"x" * 70000, 413), "Content-Length: abc": (None, 400), "Content-Length: -1": (None, 400),
    "body shorter than Content-Length": (None, 408), "unknown path": (None, 404), "wrong method": (None, 405),
}


async def _request(port: int, raw: bytes, timeout_s: float = 15.0) -> tuple[int | None, float]:
    start = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout_s)
        writer.write(raw)
        await writer.drain()
        head = await asyncio.wait_for(reader.readline(), timeout_s)
        writer.close()
        status = int(head.split()[1]) if head.startswith(b"HTTP/1.1") else None
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
        status = None
    return status, time.perf_counter() - start


def _post(body: bytes, length: str | None = None) -> bytes:
    return (b"POST /api/turn HTTP/1.1\r\nHost: kiosk\r\nContent-Length: " + (length or str(len(body))).encode()
            + b"\r\n\r\n" + body)


def kiosk(concurrent: int) -> dict:
    server = subprocess.Popen([sys.executable, "-m", "laoshan.cli", "serve", "--domain", "bank", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = server.stdout.readline() if server.stdout else ""
        port = int(re.search(r":(\d+)/", line).group(1))        # "kiosk for bank at http://127.0.0.1:PORT/"
        raws = {name: raw for name, (raw, _) in MALFORMED.items() if raw is not None}
        requests = {name: _post(raw) for name, raw in raws.items()}
        requests |= {"Content-Length: abc": _post(b"{}", "abc"), "Content-Length: -1": _post(b"{}", "-1"),
                     "body shorter than Content-Length": _post(b"{}", "100"),
                     "unknown path": b"GET /nope HTTP/1.1\r\nHost: kiosk\r\n\r\n",
                     "wrong method": b"GET /api/turn HTTP/1.1\r\nHost: kiosk\r\n\r\n"}

        async def run() -> tuple[dict, list[tuple[int | None, float]]]:
            malformed = {name: (await _request(port, raw))[0] for name, raw in requests.items()}
            said = ["我想开户", "what is the euro rate", "where is the ATM", "营业时间"]
            turns = [_post(json.dumps({"person": f"visitor-{i}", "text": said[i % 4]}).encode())
                     for i in range(concurrent)]
            return malformed, await asyncio.gather(*(_request(port, raw) for raw in turns))

        malformed, answers = asyncio.run(run())
    finally:
        server.terminate()
        server.wait(10)
    latency = [t for status, t in answers if status == 200]
    out = {"malformed": {name: {"status": malformed[name], "expected": MALFORMED[name][1]} for name in MALFORMED},
           "malformed_answered_as_expected": sum(malformed[n] == MALFORMED[n][1] for n in MALFORMED),
           "concurrent": concurrent, "ok": len(latency), "errors": sum(s not in (None, 200) for s, _ in answers),
           "lost": sum(s is None for s, _ in answers),
           "latency_ms_p50": float(np.percentile(latency, 50) * 1e3) if latency else None,
           "latency_ms_p99": float(np.percentile(latency, 99) * 1e3) if latency else None}
    print(f"  kiosk: {out['malformed_answered_as_expected']}/{len(MALFORMED)} malformed as expected; "
          f"{out['ok']}/{concurrent} ok, p99 {out['latency_ms_p99']} ms", flush=True)
    return out


# --- report -------------------------------------------------------------------------------------

def summary_rows(r: dict) -> list[list[object]]:
    rows = []
    if "fuzz" in r:
        f = r["fuzz"]
        rows += [[f"fuzz ({f['commands']} commands): exceptions / invalid accepted / valid rejected",
                  f"{f['exceptions']} / {f['invalid_accepted']} / {f['valid_rejected']}", "0 / 0 / 0"],
                 ["fuzz: limb joints past the margin / torque over peak / non-finite state",
                  f"{f['limit_excursions']} / {f['torque_over_peak']} / {f['non_finite_state']} "
                  f"(worst {f['worst_limb_joint_past_limit_rad'] * 1e3:.1f} mrad past)", "0 / 0 / 0"]]
    if "silent" in r:
        for label, s in r["silent"].items():
            rows.append([f"silent controller, {label}: to damping [ms] / to ground [s] / pelvis fall speed [m/s]",
                         f"{s['time_to_damping_ms_max']:.0f} / {s['time_to_ground_s_median']:.2f} / "
                         f"{s['pelvis_peak_fall_speed_m_s_median']:.2f}", "<= 60 ms" if label == "damping" else "-"])
    if "false_trips" in r:
        for label, s in r["false_trips"].items():
            rows.append([f"false trips, {s['seconds'] / 60:g} min {label}", f"{s['trips']} (fell: {s['fell']})", "0"])
    if "fall_lead" in r:
        f = r["fall_lead"]
        rows.append([f"fall flag lead before first non-foot contact ({f['impulse_Ns']:g} N·s, {len(f['runs'])} "
                     "shoves): min / median [ms]", f"{f['lead_ms_min']} / {f['lead_ms_median']} "
                     f"({f['flagged_before_touch']} of {f['fell']} falls flagged first)", ">= 150 every run"])
    if "faults" in r:
        for label, s in r["faults"].items():
            stops = ", ".join(f"{k}: {v}" for k, v in s["stops"].items())
            rows.append([f"sensor fault {label}", f"survived {s['survived']}/{s['runs']}; stops: {stops}",
                         "no fall" if label.startswith("nan_") else "controlled stop"])
    if "memory" in r:
        m = r["memory"]
        rows.append([f"memory over {m['simulated_s'] / 3600:g} h standing (from 10%)", f"{m['growth_fraction']:+.2%}",
                     "< 1%"])
    if "kiosk" in r:
        k = r["kiosk"]
        rows += [["kiosk: malformed requests answered as expected", f"{k['malformed_answered_as_expected']}/"
                  f"{len(k['malformed'])}", "all"],
                 [f"kiosk: {k['concurrent']} concurrent turns: errors / lost / p99 [ms]",
                  f"{k['errors']} / {k['lost']} / {k['latency_ms_p99']}", "0 / 0 / -"]]
    return rows


def main() -> None:
    args = benchmark_args(__doc__, "safety", "smaller counts and shorter runs", sections=SECTIONS)
    robot, functional = load_description("g1-basic"), load_description("g1-functional")
    quick = args.quick
    chosen = args.only or SECTIONS
    results: dict = {}
    if "fuzz" in chosen:
        results["fuzz"] = fuzz(robot, 5000 if quick else 100_000)
    if "silent" in chosen:
        results["silent"] = silent(robot, range(3 if quick else 20))
    if "false_trips" in chosen:
        results["false_trips"] = false_trips(robot, 30.0 if quick else 600.0)
    if "fall_lead" in chosen:
        results["fall_lead"] = fall_lead(robot, range(1 if quick else 5), 60.0)
    if "faults" in chosen:
        results["faults"] = faults(robot, functional, range(3 if quick else 20))
    if "memory" in chosen:
        results["memory"] = memory(robot, 60.0 if quick else 3600.0)
    if "kiosk" in chosen:
        results["kiosk"] = kiosk(100 if quick else 500)
    print(format_table(["figure", "measured", "goal"], summary_rows(results)))
    path = update_json(args.out, results) if args.only else write_json(args.out, results)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

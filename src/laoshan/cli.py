"""The ``laoshan`` command line."""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click

from laoshan.bench.report import format_table
from laoshan.components.catalog import CatalogError, load_catalog
from laoshan.robot.description import RobotConfigError, RobotDescription, load_description, robot_files

if TYPE_CHECKING:
    from laoshan.scenarios.episode import TaskReport
    from laoshan.scenarios.guide import GuideReport, HallRobot

T = TypeVar("T")


class Finite(click.FloatRange):
    """A number option that must be finite (NaN and infinities are refused), within [min, max]."""

    name = "finite number"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = float(click.FLOAT.convert(value, param, ctx))
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return float(super().convert(number, param, ctx))


SEED = click.IntRange(min=0, max=2**63 - 1)   # a seed is a non-negative integer (numpy's generators refuse others)


class LaoshanGroup(click.Group):
    """The command group; an error nobody foresaw ends the command with one line, not a traceback
    (``LAOSHAN_DEBUG=1`` shows it)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("LAOSHAN_DEBUG"):
                raise
            raise click.ClickException(f"internal error: {type(exc).__name__}: {exc} "
                                       "(LAOSHAN_DEBUG=1 shows where)") from None


@click.group(cls=LaoshanGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="laoshan")
def main() -> None:
    """Laoshan: an open humanoid robot stack on the Unitree G1, in honest MuJoCo physics."""


def _fail(exc: Exception) -> NoReturn:
    raise click.ClickException(str(exc))


def _set_catalog(ctx: click.Context, _param: click.Parameter, path: Path | None) -> None:
    ctx.meta["laoshan.catalog"] = path


catalog_option = click.option(
    "--catalog", type=click.Path(exists=True, dir_okay=False, path_type=Path), expose_value=False,
    callback=_set_catalog, help="An extra catalog TOML: the robot's parts may come from it (added to the stock ones).")


def _robot(name: str) -> RobotDescription:
    """The robot ``name`` (or .toml path), its parts from the stock catalog and ``--catalog``."""
    ctx = click.get_current_context(silent=True)
    path = ctx.meta.get("laoshan.catalog") if ctx else None
    try:
        return load_description(name, load_catalog(path) if path else None)
    except (RobotConfigError, CatalogError) as exc:
        _fail(exc)


def _summary(title: str, rows: list[list[object]], video: Path | None, failed: bool) -> None:
    """Print a run's summary table; exit with status 1 if the run failed (a fall, a missed goal)."""
    if video:
        rows.append(["video", str(video)])
    click.echo(format_table([title, "value"], rows))
    if failed:
        raise SystemExit(1)


def _trips(trips: tuple[str, ...]) -> list[object]:
    """The summary row of the safety monitor's stops."""
    return ["safety stops", "; ".join(trips) or "none"]


def _task_rows(report: TaskReport) -> list[list[object]]:
    """The rows every manipulation task's summary ends with."""
    return [
        ["reached phase", report.phase or "-"],
        ["stopped because", report.failure or "-"],
        *([["the hands' touch pads feel at the end [N]", ", ".join(f"{side} {force:.1f}"
                                                                  for side, force in report.felt_N.items())]]
          if report.felt_N else []),
        ["fell", "yes" if report.fell else "no"],
        _trips(report.safety_trips),
        ["energy used [J]", report.energy_J],
        ["real-time factor", f"{report.real_time_factor:.1f}x"],
    ]


def _with_progress(desc: RobotDescription, label: str, seconds: float, run: Callable[[Callable[[int], None]], T]) -> T:
    """Run ``run(progress)`` under a progress bar over ``seconds`` of simulated control ticks; a
    ValueError it raises (bad input found once the run is set up) or a lost camera is a clear error,
    exit status 1."""
    ticks = int(round(seconds * desc.catalog.get("controller", desc.controller).control_rate_Hz))
    from laoshan.executive.look import CameraLost

    with click.progressbar(length=ticks, label=f"{desc.name} {label}", file=click.get_text_stream("stderr")) as bar:
        try:
            return run(bar.update)
        except (ValueError, CameraLost) as exc:
            _fail(exc)


@main.command()
@catalog_option
def robots() -> None:
    """List the robots (whole-machine products) with mass, DoF and parts."""
    from laoshan.robot.pinocchio_model import build_pinocchio_model

    rows = []
    try:
        for name in sorted(robot_files()):
            desc = _robot(name)
            model = build_pinocchio_model(desc)
            mass = sum(inertia.mass for inertia in model.inertias)
            parts = sorted({m.part for m in desc.motors})
            sensors = [desc.imu.part, desc.encoder] + [c.part for c in desc.cameras]
            sensors += sorted({t.part for t in desc.touch})
            rows.append([name, desc.product, f"{mass:.2f}", len(desc.motors), ", ".join(parts),
                         ", ".join(sensors), desc.battery])
    except (RobotConfigError, CatalogError) as exc:
        _fail(exc)
    click.echo(format_table(["robot", "product", "mass_kg", "DoF", "motors", "sensors", "battery"], rows))


@main.command()
@click.option("--kind", type=click.Choice(["motor", "encoder", "imu", "force", "touch", "camera",
                                           "battery", "controller"]), help="Only this kind of part.")
@click.option("--catalog", "catalog_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An extra catalog TOML whose parts are added to the stock ones.")
def parts(kind: str | None, catalog_path: Path | None) -> None:
    """The component catalog: sensors, actuators, controllers and batteries."""
    try:
        catalog = load_catalog(catalog_path)
    except CatalogError as exc:
        _fail(exc)
    summaries = {
        "motor": lambda p: f"peak {p.peak_torque_Nm:g} N·m, no-load {p.no_load_speed_rad_s:g} rad/s, "
                           f"rotor {p.armature_kgm2:g} kg·m², derate from {p.derate_start_C:g} °C",
        "encoder": lambda p: f"{p.counts_per_rev} counts/rev, noise {p.position_noise_rad:g} rad, {p.rate_Hz:g} Hz",
        "imu": lambda p: f"gyro noise {p.gyro_noise_rad_s:g} rad/s, accel noise {p.accel_noise_m_s2:g} m/s², "
                         f"{p.rate_Hz:g} Hz",
        "force": lambda p: f"noise {p.noise_N:g} N, full scale {p.full_scale_N:g} N, {p.rate_Hz:g} Hz",
        "touch": lambda p: f"noise {p.noise_N:g} N, full scale {p.full_scale_N:g} N, {p.rate_Hz:g} Hz",
        "camera": lambda p: f"{p.width_px}x{p.height_px}, fov {p.vertical_fov_deg:g}°, "
                            f"depth {p.min_depth_m:g}-{p.max_depth_m:g} m, {p.rate_Hz:g} Hz",
        "battery": lambda p: f"{p.cells_in_series}S {p.capacity_Ah:g} Ah, {p.energy_Wh:.0f} Wh, "
                             f"R {p.internal_resistance_ohm:g} Ω, max {p.max_discharge_current_A:g} A",
        "controller": lambda p: f"physics {p.physics_rate_Hz:g} Hz, control {p.control_rate_Hz:g} Hz, "
                                f"watchdog {p.watchdog_timeout_s * 1000:g} ms",
    }
    rows = [[k, pid, summaries[k](spec), spec.description]
            for k in catalog.kinds() if kind in (None, k)
            for pid, spec in catalog.parts[k].items()]
    click.echo(format_table(["kind", "part", "key figures", "description"], rows))


def dds_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--dds``, ``--domain`` and ``--interface``: drive a robot over DDS instead of the in-process simulator."""
    command = click.option("--interface", default="lo", show_default=True,
                           help="Network interface DDS uses (with --dds).")(command)
    command = click.option("--domain", default=1, show_default=True, type=click.IntRange(0, 232),
                           help="DDS domain (with --dds).")(command)
    command = click.option("--wait", "wait_s", default=10.0, show_default=True, type=Finite(0.1, 600.0),
                           help="With --dds: wait this long for the robot's first state [s].")(command)
    return click.option("--dds", is_flag=True, help="Drive the robot serving the G1's DDS topics (rt/lowstate, "
                        "rt/lowcmd) in real time: `laoshan sim --dds`, or a G1.")(command)


def _on_dds(desc: RobotDescription, domain: int, interface: str, wait_s: float, label: str, seconds: float,
            run: Callable[..., T]) -> T:
    """Run ``run(port, state, progress)`` against the robot on DDS; a robot that does not answer is a clear error."""
    from laoshan.executive.look import CameraLost
    from laoshan.port.base import PortLost
    from laoshan.port.dds import DdsConfig, DdsPort

    try:
        port = DdsPort(desc, DdsConfig(domain=domain, interface=interface, connect_timeout_s=wait_s))
        state = port.first_state()
    except PortLost as exc:
        _fail(f"{exc}: is a robot serving it (`laoshan sim --dds --domain {domain} --interface {interface}`)?")
    except Exception as exc:  # noqa: BLE001 - cyclonedds raises its own DDSException on a bad interface
        _fail(f"cannot join DDS domain {domain} on {interface!r}: {exc}")
    ticks = int(round(seconds / port.control_dt_s))
    with click.progressbar(length=ticks, label=f"{desc.name} {label} (DDS)",
                           file=click.get_text_stream("stderr")) as bar:
        try:
            return run(port, state, bar.update)
        except (ValueError, PortLost, CameraLost) as exc:
            _fail(exc)
        finally:
            port.close()


def _motion_summary(title: str, report: object, port_stats: object | None = None) -> None:
    from laoshan.executive.motion import MotionReport

    assert isinstance(report, MotionReport)
    loop = report.loop
    rows = [
        ["robot", report.robot],
        ["robot time [s]", report.seconds],
        ["fell (the robot's own flag)", "yes" if report.fell else "no"],
        ["estimated distance [m]", f"{report.estimated_distance_m:.3f}"],
        *([["command limited", report.limited]] if report.limited else []),
        _trips(report.safety_trips),
        ["controller p50 / p99 / max [ms]",
         f"{loop.tick_p50_ms:.2f} / {loop.tick_p99_ms:.2f} / {loop.tick_max_ms:.2f}"],
        ["deadline misses", loop.deadline_misses],
    ]
    if port_stats is not None:
        rows.append(["states / robot ticks missed / CRC errors",
                     f"{port_stats.states} / {port_stats.missed_ticks} / {port_stats.crc_errors}"])  # type: ignore
    _summary(title, rows, None, report.fell)


@main.command()
@catalog_option
@click.option("--robot", default="g1-basic", show_default=True, help="Robot name or robot .toml path.")
@click.option("--seconds", default=10.0, show_default=True, type=Finite(min=0.01),
              help="Simulated seconds.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of sensor noise.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here.")
@dds_options
def stand(robot: str, seconds: float, seed: int, video: Path | None, dds: bool, wait_s: float, domain: int,
          interface: str) -> None:
    """Stand at the home posture on joint PD, through LowCmd/LowState only, with the safety monitors on;
    print a summary (and any stop they took)."""
    from laoshan.scenarios.stand import StandScenario, run_stand

    desc = _robot(robot)
    if dds:
        from laoshan.executive.motion import stand_on

        stats: list[object] = []

        def on_port(port: object, state: object, progress: Callable[[int], None]) -> object:
            stats.append(port.stats)  # type: ignore[attr-defined]
            return stand_on(port, state, seconds, progress)  # type: ignore[arg-type]

        report = _on_dds(desc, domain, interface, wait_s, "standing", seconds, on_port)
        _motion_summary("stand (DDS)", report, stats[0])
        return
    config = StandScenario(robot=robot, seconds=seconds, seed=seed, video=video)
    report = _with_progress(desc, "standing", seconds, lambda progress: run_stand(config, progress, desc))
    rows = [
        ["robot", report.robot],
        ["simulated time [s]", report.seconds],
        ["fell", "yes" if report.fell else "no"],
        ["fall time [s]", report.fall_time_s if report.fell else "-"],
        ["pelvis height final / min [m]", f"{report.pelvis_height_final_m:.3f} / {report.pelvis_height_min_m:.3f}"],
        ["max tilt [deg]", f"{report.max_tilt_rad * 57.2958:.2f}"],
        ["energy used [J]", report.energy_J],
        ["mean electrical power [W]", report.mean_power_W],
        ["battery SOC [%]", f"{report.battery_soc * 100:.2f}"],
        ["runtime at this power [h]", f"{report.runtime_estimate_h:.2f}"],
        ["hottest motor [°C]", f"{report.max_motor_temp_C:.2f}"],
        ["rejected commands", report.rejected_commands],
        _trips(report.safety_trips),
        ["controller p99 [ms] / deadline misses", f"{report.controller_p99_ms:.3f} / {report.deadline_misses}"],
        ["real-time factor", f"{report.real_time_factor:.1f}x"],
    ]
    _summary("stand", rows, video, report.fell)


@main.command()
@catalog_option
@click.option("--robot", default="g1-basic", show_default=True, help="Robot name or robot .toml path.")
@click.option("--vx", default=0.3, show_default=True, type=Finite(-0.5, 1.5), help="Forward speed [m/s].")
@click.option("--vy", default=0.0, show_default=True, type=Finite(-0.5, 0.5), help="Left speed [m/s].")
@click.option("--yaw-rate", default=0.0, show_default=True, type=Finite(-1.5, 1.5), help="Turn rate [rad/s].")
@click.option("--seconds", default=10.0, show_default=True, type=Finite(min=0.5), help="Walking time.")
@click.option("--terrain", default="flat", show_default=True,
              type=click.Choice(["flat", "slope", "cross-slope", "steps", "stairs", "rough"]),
              help="Ground ahead from 1 m: a 10-degree ramp, 3 m of ground inclined 10 degrees across the way, one "
                   "step up onto a platform and one down, a flight of 4 stairs up and down (0.30 m treads), or 3 cm "
                   "bumps. Off the flat floor a robot with a camera "
                   "maps the ground with it and steps by the map.")
@click.option("--step-height", "step_height_m", default=0.10, show_default=True, type=Finite(0.0, 0.3),
              help="Rise of each step of --terrain steps or stairs [m].")
@click.option("--push", "push_Ns", default=0.0, show_default=True, type=Finite(0, 100),
              help="Shove the base forward with this impulse [N·s] at mid-walk.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of sensor noise and terrain.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here.")
@click.option("--distance", "distance_m", type=Finite(0.05, 100.0),
              help="With --dds: walk until the robot estimates it has covered this far [m] (else for --seconds).")
@dds_options
def walk(robot: str, vx: float, vy: float, yaw_rate: float, seconds: float, terrain: str, step_height_m: float,
         push_Ns: float, seed: int, video: Path | None, distance_m: float | None, dds: bool, wait_s: float,
         domain: int, interface: str) -> None:
    """Walk on a velocity command (sensor-only estimation, whole-body QP); print a summary."""
    from laoshan.scenarios.walk import SETTLE_S, WalkScenario, run_walk

    desc = _robot(robot)
    if dds:
        from laoshan.executive.motion import STOP_S, walk_on

        if terrain != "flat" or push_Ns or video:
            _fail("--terrain, --push and --video belong to the simulator: give them to `laoshan sim --dds`")
        distance = distance_m if distance_m is not None else math.hypot(vx, vy) * seconds
        timeout = seconds if distance_m is None else max(seconds, 3.0 * distance_m / max(math.hypot(vx, vy), 0.05))
        stats: list[object] = []

        def on_port(port: object, state: object, progress: Callable[[int], None]) -> object:
            stats.append(port.stats)  # type: ignore[attr-defined]
            return walk_on(port, state, (vx, vy, yaw_rate), distance, timeout, progress)  # type: ignore[arg-type]

        report = _on_dds(desc, domain, interface, wait_s, "walking", SETTLE_S + timeout + STOP_S, on_port)
        _motion_summary("walk (DDS)", report, stats[0])
        return
    config = WalkScenario(robot=robot, vx_m_s=vx, vy_m_s=vy, yaw_rate_rad_s=yaw_rate, seconds=seconds,
                          terrain=terrain, step_height_m=step_height_m, push_Ns=push_Ns, seed=seed, video=video)
    report = _with_progress(desc, "walking", seconds + SETTLE_S, lambda progress: run_walk(config, progress, desc))
    rows = [
        ["robot", report.robot],
        ["command vx, vy [m/s], yaw rate [rad/s]", ", ".join(f"{v:g}" for v in report.command)],
        *([["command limited", report.limited]] if report.limited else []),
        ["terrain / push [N·s]", f"{terrain}{f' ({step_height_m:g} m)' if terrain in ('steps', 'stairs') else ''}"
                                 f" / {push_Ns:g}"],
        ["fell", f"yes, at {report.fall_time_s:.2f} s" if report.fell else "no"],
        ["distance walked / start to end [m]", f"{report.distance_m:.3f} / {report.displacement_m:.3f}"],
        ["mean speed [m/s]", report.mean_speed_m_s],
        ["speed tracking RMSE [m/s]", report.speed_rmse_m_s],
        ["heading change [deg]", f"{math.degrees(report.yaw_change_rad):.1f}"],
        ["energy used [J]", report.energy_J],
        ["cost of transport", report.cost_of_transport],
        ["estimator drift [m] / of distance / in height [m]",
         f"{report.estimator_drift_m:.3f} / {report.estimator_drift_fraction:.1%} / "
         f"{report.estimator_height_drift_m:+.3f}"],
        _trips(report.safety_trips),
        ["real-time factor", f"{report.real_time_factor:.1f}x"],
    ]
    _summary("walk", rows, video, report.fell)


def _object_options(*shapes: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The options the pick and place commands share; ``shapes`` are the objects offered."""
    def decorate(f: Callable[..., None]) -> Callable[..., None]:
        for option in reversed((
            click.option("--robot", default="g1-functional", show_default=True,
                         help="Robot name or .toml path (with hands)."),
            catalog_option,
            click.option("--object", "shape", default="box", show_default=True, type=click.Choice(shapes),
                         help="What to pick: a box (two-hand squeeze), a can-sized cylinder or a ball (one "
                              "Dex3 hand wraps it), or a 3.5 cm cube (pinched between thumb and fingertips)."),
            click.option("--mass", type=Finite(0.01, 5.0),
                         help="Object mass [kg]; default 0.5 (0.1 for the cube)."),
            click.option("--jitter", default=0.0, show_default=True, type=Finite(0.0, 0.1),
                         help="The object lies up to this far off its nominal place [m] (seeded)."),
            click.option("--look", is_flag=True,
                         help="Find the box with the head camera first (else: take its nominal place)."),
            click.option("--seed", default=0, show_default=True, type=SEED,
                         help="Seed of sensor noise and object placement."),
            click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here."),
        )):
            f = option(f)
        return f
    return decorate


def _run_one_hand(robot: str, shape: str, mass: float, jitter: float, seed: int, video: Path | None) -> None:
    from laoshan.scenarios.grasp import GraspScenario, run_grasp

    desc = _robot(robot)
    radius = {"cylinder": 0.033, "sphere": 0.04, "cube": 0.0175}[shape]
    config = GraspScenario(robot=robot, shape=shape, radius_m=radius, mass_kg=mass, jitter_m=jitter, seed=seed,
                           video=video, **({"lift_goal_m": 0.06} if shape == "cube" else {}))
    report = _with_progress(desc, f"grasping a {shape}", config.seconds,
                            lambda progress: run_grasp(config, progress, desc))
    rows = [
        ["robot", report.robot],
        ["object", f"{shape}, {mass:g} kg, {config.radius_m * 200:.1f} cm across, "
                   f"{config.half_z_m * 200:.0f} cm tall"],
        [f"success (up >= {config.lift_goal_m * 100:.0f} cm for >= {config.hold_goal_s:g} s)",
         "yes" if report.success else "no"],
        ["lift [m] / held up [s]", f"{report.lift_m:.3f} / {report.held_s:.2f}"],
        *_task_rows(report),
    ]
    _summary("pick", rows, video, not report.success)


def _run_box(robot: str, shape: str, mass: float, jitter: float, look: bool, seed: int, video: Path | None,
             place_xy_m: tuple[float, float] | None, dds: tuple[float, int, str] | None = None) -> None:
    from laoshan.scenarios.pick import PickScenario, run_pick

    desc = _robot(robot)
    config = PickScenario(robot=robot, box_mass_kg=mass, jitter_m=jitter, perceive=look, seed=seed, video=video,
                          place_xy_m=place_xy_m, seconds=9.0 if place_xy_m is None else 12.0)
    label = f"picking a {shape}" if place_xy_m is None else f"placing a {shape}"
    if dds is not None:
        if video:
            _fail("--video belongs to the simulator; over DDS the robot is filmed where it is served")
        _box_on_dds(config, desc, label, *dds)
        return
    report = _with_progress(desc, label, config.seconds, lambda progress: run_pick(config, progress, desc))
    goal = ("placed within 1 cm" if place_xy_m is not None else "up >= 10 cm for >= 3 s")
    rows = [
        ["robot", report.robot],
        ["object", f"{shape}, {mass:g} kg, " + " x ".join(f"{h * 200:.0f}" for h in config.box_half_size_m) + " cm"],
        [f"success ({goal})", "yes" if report.success else "no"],
        ["box lift [m] / held up [s]", f"{report.lift_m:.3f} / {report.held_s:.2f}"],
        ["place error [mm]", f"{report.place_error_m * 1e3:.1f}" if report.place_error_m is not None else "-"],
        ["box seen by the head camera, off by [mm]",
         f"{report.perception_error_m * 1e3:.1f}" if report.perception_error_m is not None else "- (not looking)"],
        *_task_rows(report),
    ]
    _summary("place" if place_xy_m is not None else "pick", rows, video, not report.success)


def _box_on_dds(config: object, desc: RobotDescription, label: str, wait_s: float, domain: int,
                interface: str) -> None:
    """``pick``/``place --dds``: the same pick (and place) of the box as a DDS client against
    ``laoshan sim --dds --scene table`` (or a G1 at such a table), judged by the robot's own senses."""
    from laoshan.executive.sequence import run_sequence
    from laoshan.scenarios.pick import START_S, PickScenario, pick_controller, pick_task

    assert isinstance(config, PickScenario)
    controller = pick_controller(desc, config)

    def on_port(port: object, state: object, progress: Callable[[int], None]) -> object:
        t0 = state.time_s  # type: ignore[attr-defined]
        state, task = pick_task(config, port, controller, state)  # type: ignore[arg-type]
        _, loop = run_sequence(port, state, controller, task, t0 + config.seconds, t0 + START_S,  # type: ignore
                               progress=progress)
        return task, loop, port

    task, loop, port = _on_dds(desc, domain, interface, wait_s, label, config.seconds, on_port)
    fell = controller.locomotion.fallen
    rows = [
        ["robot", desc.name],
        ["reached phase", task.phase or "-"],
        ["stopped because", task.failed or "-"],
        ["fell (the robot's own flag)", "yes" if fell else "no"],
        _trips(controller.locomotion.safety.trip_log()),
        ["controller p99 / max [ms], deadline misses", f"{loop.tick_p99_ms:.2f} / {loop.tick_max_ms:.1f}, "
                                                       f"{loop.deadline_misses}"],
        ["states / robot ticks missed / CRC errors",
         f"{port.stats.states} / {port.stats.missed_ticks} / {port.stats.crc_errors}"],
        ["where the box is", "see `laoshan sim`'s summary (ground truth)"],
    ]
    _summary(f"{label} (DDS)", rows, None, fell or not task.done)


@main.command()
@_object_options("box", "cylinder", "sphere", "cube")
@dds_options
def pick(robot: str, shape: str, mass: float | None, jitter: float, look: bool, seed: int,
         video: Path | None, dds: bool, wait_s: float, domain: int, interface: str) -> None:
    """Pick a box from a table with both hands and lift it 10 cm for 3 s, wrap a cylinder or a
    ball with the right Dex3 hand and lift it 8 cm for 2 s, or pinch a small cube and lift it 6 cm
    for 2 s (friction only). With --dds: the box, from the robot serving the topics."""
    mass = mass if mass is not None else 0.1 if shape == "cube" else 0.5
    if shape != "box":
        if look:
            _fail(ValueError("--look finds the box only, for now"))
        if dds:
            _fail(ValueError("--dds picks the box only, for now (the table scene of `laoshan sim --dds`)"))
        _run_one_hand(robot, shape, mass, jitter, seed, video)
    else:
        _run_box(robot, shape, mass, jitter, look, seed, video, None, (wait_s, domain, interface) if dds else None)


@main.command()
@_object_options("box")
@click.option("--to", "to_xy", default="0.42,0.1", show_default=True,
              help="Where the box's centre goes on the table: x,y [m] (world; the box starts at 0.42,0).")
@dds_options
def place(robot: str, shape: str, mass: float | None, jitter: float, look: bool, seed: int, video: Path | None,
          to_xy: str, dds: bool, wait_s: float, domain: int, interface: str) -> None:
    """Pick a box, carry it to a place on the table, put it down and let go. With --dds: on the
    robot serving the topics (`laoshan sim --dds --robot g1-functional --scene table`)."""
    _run_box(robot, shape, 0.5 if mass is None else mass, jitter, look, seed, video, _xy(to_xy),
             (wait_s, domain, interface) if dds else None)


def _numbers(text: str, names: str) -> tuple[float, ...]:
    """``--to``'s comma-separated finite numbers, one per letter of ``names`` ("xy": x,y in metres)."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != len(names) or not all(math.isfinite(v) for v in values):
        _fail(ValueError(f"--to needs {('two', 'three')[len(names) - 2]} finite numbers {','.join(names)} in metres, "
                         f"got {text!r}"))
    return values


def _xy(text: str) -> tuple[float, float]:
    """``x,y`` in metres."""
    x, y = _numbers(text, "xy")
    return x, y


@main.command()
@catalog_option
@click.option("--robot", default="g1-functional", show_default=True,
              help="Robot name or .toml path (Dex3 hand, camera).")
@click.option("--clearance", default=1.0, show_default=True, type=Finite(0.1, 20.0),
              help="Hole width less peg diameter [mm].")
@click.option("--chamfer", default=4.0, show_default=True, type=Finite(0.0, 10.0),
              help="Chamfer at the hole's mouth [mm].")
@click.option("--jitter", default=0.01, show_default=True, type=Finite(0.0, 0.03),
              help="The peg stands up to this far off its nominal place [m] (seeded).")
@click.option("--hole-jitter", default=0.0, show_default=True, type=Finite(0.0, 0.03),
              help="The hole's block stands up to this far off where the map has it [m] (seeded).")
@click.option("--see-hole", is_flag=True,
              help="Find the hole with the head camera (else: the map's place is a calibrated fixture).")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of sensor noise and peg placement.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here.")
def insert(robot: str, clearance: float, chamfer: float, jitter: float, hole_jitter: float, see_hole: bool,
           seed: int, video: Path | None) -> None:
    """Peg in hole: grasp a peg with the right Dex3 hand, find how it sits in the hand with the head
    camera, and push it into a chamfered hole (contact only); with --see-hole the hole, too, is
    found with the camera."""
    from laoshan.scenarios.insert import InsertScenario, run_insert

    desc = _robot(robot)
    try:
        config = InsertScenario(robot=robot, clearance_m=clearance / 1000, chamfer_m=chamfer / 1000,
                                jitter_m=jitter, hole_jitter_m=hole_jitter, see_hole=see_hole, seed=seed, video=video)
    except ValueError as exc:
        _fail(exc)
    report = _with_progress(desc, "inserting a peg", config.seconds,
                            lambda progress: run_insert(config, progress, desc))
    rows = [
        ["robot", report.robot],
        ["peg / hole", f"{config.peg_radius_m * 2000:.0f} mm peg, {clearance:g} mm clearance, "
                       f"{config.hole_depth_m * 1000:.0f} mm deep, {chamfer:g} mm chamfer"],
        [f"success (>= {config.depth_goal_fraction * config.hole_depth_m * 1000:.0f} mm in, hand away)",
         "yes" if report.success else "no"],
        ["depth [mm] / off the hole's axis [mm]", f"{report.depth_m * 1000:.1f} / {report.axis_error_m * 1000:.2f}"],
        ["peak contact force, peg on the block [N]", f"{report.peak_force_N:.1f}"],
        ["seen peg in hand, error [mm]",
         f"{report.seen_error_m * 1000:.1f}" if report.seen_error_m is not None else "-"],
        ["hole", "told (a calibrated fixture)" if not see_hole else
         f"seen by the head camera, {report.hole_seen_error_m * 1000:.1f} mm off" if report.hole_seen_error_m
         is not None else "not seen"],
        *_task_rows(report),
    ]
    _summary("insert", rows, video, not report.success)


@main.command()
@catalog_option
@click.option("--robot", default="g1-functional", show_default=True,
              help="Robot name or .toml path (two Dex3 hands).")
@click.option("--jitter", default=0.005, show_default=True, type=Finite(0.0, 0.02),
              help="The towel lies up to this far off its nominal place [m] (seeded).")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of sensor noise and towel placement.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here.")
def fold(robot: str, jitter: float, seed: int, video: Path | None) -> None:
    """Fold a towel (cloth) in half: pinch its edge where it hangs over the table's edge with both
    Dex3 hands and lay it on the far edge (friction only)."""
    from laoshan.scenarios.towel import TowelScenario, run_towel_fold

    desc = _robot(robot)
    config = TowelScenario(robot=robot, jitter_m=jitter, seed=seed, video=video)
    report = _with_progress(desc, "folding a towel", config.seconds,
                            lambda progress: run_towel_fold(config, progress, desc))
    depth, width = config.size_m
    rows = [
        ["robot", report.robot],
        ["towel", f"{depth * 100:.0f} x {width * 100:.1f} cm, {config.mass_kg * 1000:.0f} g"],
        [f"success (>= {config.paired_goal:.0%} of the near edge within {config.paired_m * 100:.0f} cm of the far "
         f"edge, <= {config.depth_goal:.0%} as deep, on the table)", "yes" if report.success else "no"],
        [f"near-edge points within {config.paired_m * 100:.0f} cm of the far edge", f"{report.paired:.0%}"],
        ["edge-to-edge gap median [mm]", f"{report.pair_gap_median_m * 1000:.0f}"],
        ["depth now / at the start", f"{report.depth_ratio:.0%}"],
        ["on the table", "yes" if report.on_table else "no"],
        *_task_rows(report),
    ]
    _summary("fold", rows, video, not report.success)


@main.command()
@catalog_option
@click.option("--robot", default="g1-functional", show_default=True,
              help="Robot name or .toml path (with a collision model).")
@click.option("--to", "to_xyz", default="0.32,-0.20,0.82", show_default=True,
              help="The right hand's goal x,y,z [m] (world) in the shelf (boards at 0.45, 0.70, 0.95 m).")
@click.option("--jitter", default=0.0, show_default=True, type=Finite(0.0, 0.02),
              help="The shelf stands up to this far off where the map has it [m] (seeded).")
@click.option("--blind", is_flag=True, help="Straight hand paths that ignore the shelf (for comparison).")
@click.option("--beside", is_flag=True,
              help="Plan in a worker process beside the control loop, as on a real-time port (the arm starts when "
                   "its path comes, so a run is not exactly repeatable).")
@click.option("--seed", default=0, show_default=True, type=SEED,
              help="Seed of sensor noise, shelf placement and planner.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here.")
def shelf(robot: str, to_xyz: str, jitter: float, blind: bool, beside: bool, seed: int, video: Path | None) -> None:
    """Reach into a shelf between its boards and back out along arm paths planned around the shelf
    and the robot's own body; prints whether anything touched."""
    from laoshan.scenarios.shelf import ShelfScenario, run_shelf

    goal = _numbers(to_xyz, "xyz")
    desc = _robot(robot)
    config = ShelfScenario(robot=robot, goal_m=goal, jitter_m=jitter, planned=not blind, plan_beside=beside, seed=seed,
                           video=video)
    report = _with_progress(desc, "reaching into a shelf", config.seconds,
                            lambda progress: run_shelf(config, progress, desc))
    rows = [
        ["robot", report.robot],
        ["paths", "straight (blind)" if blind else "planned around the shelf and the body"],
        [f"success (hand within {config.error_goal_m * 100:.0f} cm, nothing touched)",
         "yes" if report.success else "no"],
        ["hand off the goal [mm]", f"{report.hand_error_m * 1000:.1f}" if math.isfinite(report.hand_error_m) else "-"],
        ["touched the shelf for [s] / peak force [N]", f"{report.touch_s:.2f} / {report.peak_touch_N:.1f}"],
        ["plan time [ms]", " + ".join(f"{t * 1000:.0f}" for t in report.plan_s) or "-"],
        ["planned clearance [mm]", f"{report.clearance_m * 1000:.1f}" if math.isfinite(report.clearance_m) else "-"],
        ["deadline misses: all / while planning " + ("(beside the loop)" if beside else "(in the loop)"),
         f"{report.deadline_misses} / {report.planning_deadline_misses}"],
        *_task_rows(report),
    ]
    _summary("shelf", rows, video, not report.success)


@main.command("open")
@catalog_option
@click.option("--robot", default="g1-functional", show_default=True, help="Robot name or .toml path (with hands).")
@click.option("--object", "thing", default="drawer", show_default=True, type=click.Choice(["drawer", "door"]),
              help="What to open: a drawer (pulled 15 cm along its rail) or a cabinet door (swung 45° on its hinge).")
@click.option("--hand", default="right", show_default=True, type=click.Choice(["left", "right"]),
              help="The hand that pulls (drawer; a door is hinged for the right hand).")
@click.option("--jitter", default=0.0, show_default=True, type=Finite(0.0, 0.05),
              help="The cabinet stands up to this far off its nominal place [m] (seeded).")
@click.option("--grasp", is_flag=True, help="Grasp the drawer's handle (Dex3 thumb and fingers around it) "
                                            "instead of hooking the fingers behind it.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of sensor noise and cabinet placement.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here.")
def open_(robot: str, thing: str, hand: str, jitter: float, grasp: bool, seed: int, video: Path | None) -> None:
    """Open a drawer or a door: hook the fingers behind its handle bar (or grasp a drawer's) and
    pull (contact only)."""
    from laoshan.scenarios.articulated import DoorScenario, DrawerScenario, run_open

    desc = _robot(robot)
    config: DrawerScenario | DoorScenario
    if thing == "door":
        if hand != "right":
            _fail(ValueError("the cabinet door is hinged on its left edge: open it with the right hand"))
        if grasp:
            _fail(ValueError("--grasp opens drawers only, for now: a door's handle is hooked"))
        config = DoorScenario(robot=robot, jitter_m=jitter, seed=seed, video=video)
        goal, opened = f"{math.degrees(config.open_goal):.0f}°", "opened [deg]"
    else:
        config = DrawerScenario(robot=robot, side=hand, grip="grasp" if grasp else "hook", jitter_m=jitter,
                                seed=seed, video=video)
        if hand == "left":     # the cabinet stands in front of the pulling hand
            config = replace(config, drawer=replace(config.drawer, center_y_m=-config.drawer.center_y_m))
        goal, opened = f"{config.open_goal * 100:.0f} cm", "opened [cm]"
    report = _with_progress(desc, f"opening a {thing}", config.seconds,
                            lambda progress: run_open(config, progress, desc))
    rows = [
        ["robot", report.robot],
        [f"success (opened >= {goal})", "yes" if report.success else "no"],
        [opened, f"{math.degrees(report.opened):.0f}" if thing == "door" else f"{report.opened * 100:.1f}"],
        *_task_rows(report),
    ]
    _summary("open", rows, video, not report.success)


@main.command()
@catalog_option
@click.option("--robot", default="g1-functional", show_default=True, help="Robot name or .toml path (two hands).")
@click.option("--mass", default=2.0, show_default=True, type=Finite(0.1, 3.0), help="Box mass [kg].")
@click.option("--distance", default=5.0, show_default=True, type=Finite(0.5, 20.0),
              help="How far to walk with it [m].")
@click.option("--turn", "turn_deg", default=0.0, show_default=True, type=Finite(-360.0, 360.0),
              help="Then turn on the spot this much [deg, + left].")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of sensor noise.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here.")
def carry(robot: str, mass: float, distance: float, turn_deg: float, seed: int, video: Path | None) -> None:
    """Pick a box from a table with both hands and carry it while walking (backward, away from the
    table), then turning on the spot."""
    from laoshan.scenarios.carry import CarryScenario, run_carry

    desc = _robot(robot)
    config = CarryScenario(table=replace(CarryScenario().table, box_mass_kg=mass), distance_m=distance,
                           turn_rad=math.radians(turn_deg), seed=seed, video=video)
    report = _with_progress(desc, f"carrying a {mass:g} kg box", config.seconds,
                            lambda progress: run_carry(config, progress, desc))
    rows = [
        ["robot", report.robot],
        [f"success (walked >= {config.min_walked_fraction * distance:.2f} m, turned within "
         f"{math.degrees(config.turn_tolerance_rad):.0f} deg of {turn_deg:g}, box still held)",
         "yes" if report.success else "no"],
        ["distance walked [m]", f"{report.walked_m:.2f}"],
        ["turned [deg]", f"{math.degrees(report.turned_rad):.0f}"],
        ["walking time [s]", f"{report.walk_s:.1f}" if report.walk_s is not None else "-"],
        ["box still held", "yes" if report.box_held else "no"],
        *_task_rows(report),
    ]
    _summary("carry", rows, video, not report.success)


@main.command()
@click.option("--dds", is_flag=True, help="Serve the robot on the G1's DDS topics (required: the one mode).")
@catalog_option
@click.option("--robot", default="g1-basic", show_default=True, help="Robot name or robot .toml path.")
@click.option("--scene", default="flat", show_default=True,
              type=click.Choice(["flat", "table", "factory", "kitchen", "hall"]),
              help="What stands around the robot: nothing, or the instruction scenes' furniture and objects.")
@click.option("--seconds", default=60.0, show_default=True, type=Finite(0.1, 86400.0), help="Robot time to serve [s].")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of sensor noise and the scene's props.")
@click.option("--domain", default=1, show_default=True, type=click.IntRange(0, 232), help="DDS domain.")
@click.option("--interface", default="lo", show_default=True, help="Network interface DDS uses.")
@click.option("--idle-exit", "idle_exit_s", type=Finite(0.1, 3600.0),
              help="Stop once no command has come for this long after the first [s] (default: serve --seconds).")
def sim(dds: bool, robot: str, scene: str, seconds: float, seed: int, domain: int, interface: str,
        idle_exit_s: float | None) -> None:
    """Serve a simulated robot in real time on DDS as a G1 (rt/lowstate at 500 Hz with Unitree's CRC,
    rt/lowcmd, the Dex3 hands' topics): it hangs on a gantry at its home posture until the first valid
    command, its drivers damp when commands stop. Prints a scoring summary from ground truth at the end."""
    if not dds:
        _fail("`laoshan sim` serves the robot on DDS: add --dds (in-process runs are `laoshan stand`, `walk`, ...)")
    from laoshan.port.dds import DdsConfig, RobotEndpoint
    from laoshan.scenarios.instruction import InstructionScenario
    from laoshan.sim.body import SimBody
    from laoshan.sim.serve import serve
    from laoshan.sim.world import WorldSpec

    desc = _robot(robot)
    world = WorldSpec(seed=seed) if scene == "flat" else InstructionScenario(scene=scene, seed=seed).world()
    body = SimBody(desc, world=world, seed=seed, cameras=bool(desc.cameras) and scene != "flat")
    try:
        endpoint = RobotEndpoint(desc, DdsConfig(domain=domain, interface=interface))
    except Exception as exc:  # noqa: BLE001 - cyclonedds raises its own DDSException on a bad interface
        _fail(f"cannot serve on DDS domain {domain} on {interface!r}: {exc}")
    click.echo(f"serving {desc.name} on DDS domain {domain} ({interface}): rt/lowstate, rt/lowcmd"
               + (", rt/dex3/left|right/*" if endpoint.layout.hands else "") + f" for {seconds:g} s", err=True)
    try:
        idle = (lambda: endpoint.idle_s() > idle_exit_s) if idle_exit_s is not None else None
        report = serve(body, endpoint, seconds, stop=idle)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    finally:
        body.close()
    rows = [
        ["robot / scene", f"{desc.name} / {scene}"],
        ["robot time / wall time [s]", f"{report.seconds:.2f} / {report.wall_s:.2f}"],
        ["state rate [Hz]", f"{report.state_rate_Hz:.1f}"],
        ["released from the gantry at [s]", f"{report.released_s:.3f}" if report.released_s is not None else "never"],
        ["commands taken / CRC errors / rejected", f"{report.commands} / {report.crc_errors} / {report.rejected}"],
        ["late ticks / tick p99 [ms]", f"{report.late_ticks} / {report.tick_p99_ms:.2f}"],
        ["camera frames sent", report.frames],
        ["last command at [s]", f"{report.last_command_s:.3f}" if report.last_command_s is not None else "-"],
        ["fell while commanded (ground truth)", f"yes, at {report.fall_time_s:.2f} s" if report.fell else "no"],
        ["fell after the commands stopped", f"at {report.fell_after_s:.2f} s (drivers damping)"
         if report.fell_after_s is not None else "no"],
        *[[f"{name} ends at [m] (ground truth)", ", ".join(f"{v:.3f}" for v in xyz)]
          for name, xyz in report.objects_xyz],
    ]
    _summary("sim (DDS)", rows, None, report.fell)


@main.command("do")
@click.argument("instruction")
@click.option("--scene", default="table", show_default=True,
              type=click.Choice(["table", "factory", "kitchen", "hall"]),
              help="Where: a work table (factory: the same, a production line's work cell) with a red box, a "
                   "blue can, a green ball and (out of view) a yellow can, stations 1 to 4; a kitchen with a "
                   "drawer, a cabinet door and a start button; or a service hall with a can on the counter and "
                   "a customer holding out a hand.")
@click.option("--llm", "llm_url", metavar="URL",
              help="Plan with an OpenAI-compatible chat endpoint (…/chat/completions); plans are validated.")
@catalog_option
@click.option("--robot", default="g1-functional", show_default=True, help="Robot name or .toml path.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of sensor noise and object placement.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here.")
@dds_options
def do(instruction: str, scene: str, llm_url: str | None, robot: str, seed: int, video: Path | None, dds: bool,
       wait_s: float, domain: int, interface: str) -> None:
    """Follow an instruction in Chinese or English, e.g. "把红色的盒子放到二号工位上" or "put the red
    box on station 2": look, plan, act; print the plan, each step's outcome, time and energy."""
    from laoshan.scenarios.instruction import InstructionScenario, run_instruction

    desc = _robot(robot)
    config = InstructionScenario(instruction=instruction, scene=scene, robot=robot, llm_url=llm_url, seed=seed,
                                 video=video)
    if dds:
        if video:
            _fail("--video belongs to the simulator; over DDS the robot is filmed where it is served")
        _do_on_dds(config, desc, wait_s, domain, interface)
        return
    report = _with_progress(desc, "following the instruction", config.seconds,
                            lambda progress: run_instruction(config, progress, desc))
    click.echo("seen: " + "; ".join(report.seen))
    if report.plan is None:
        click.echo(f"no plan: {report.answer}")
        raise SystemExit(1)
    click.echo(f"plan ({report.plan_ms:.1f} ms): {report.plan.to_json()}")
    rows = [[step, outcome] for step, outcome in report.steps]
    rows += [
        ["success", "yes" if report.success else "no" + (f" ({report.answer})" if report.answer else "")],
        ["placed off by [mm] (ground truth; handed over: from the palm's middle)",
         f"{report.error_m * 1e3:.1f}" if report.error_m is not None else "-"],
        *[[f"{name} open at the end (ground truth)", f"{amount * 100:.1f} cm" if kind == "drawer"
           else f"{math.degrees(amount):.0f} deg"] for name, kind, amount in report.opened],
        *[[f"{name}'s lamp at the end (ground truth)", "lit" if lit else "not lit"] for name, lit in report.pressed],
        ["fell", "yes" if report.fell else "no"],
        _trips(report.safety_trips),
        ["time (simulated) [s]", f"{report.seconds:.1f}"],
        ["energy used [J]", report.energy_J],
    ]
    _summary("do", rows, video, not report.success)


@main.command("plan")
@click.argument("instruction", required=False)
@click.option("--scene", default="table", show_default=True,
              type=click.Choice(["table", "factory", "kitchen", "hall"]), help="Where the robot stands (as for do).")
@click.option("--llm", "llm_url", metavar="URL",
              help="Plan with an OpenAI-compatible chat endpoint (…/chat/completions); plans are validated.")
@catalog_option
@click.option("--robot", default="g1-functional", show_default=True, help="Robot name or .toml path.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of sensor noise and object placement.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per instruction.")
def plan_command(instruction: str | None, scene: str, llm_url: str | None, robot: str, seed: int,
                 as_json: bool) -> None:
    """Plan an instruction without carrying it out: the robot looks once with its head camera and
    prints the plan, the refusal or the question back (it does not move). With no INSTRUCTION, it
    reads one per line from stdin and answers each (one JSON line each with --json)."""
    import json
    import time

    from laoshan.brain.planner import LlmPlanner, PlanError, Refusal, plan_offline
    from laoshan.scenarios.instruction import InstructionScenario, look

    desc = _robot(robot)
    config = InstructionScenario(scene=scene, robot=robot, seed=seed)
    world = look(config, desc)
    planner = LlmPlanner(llm_url).plan if llm_url else plan_offline
    if not as_json:
        click.echo("seen: " + ("; ".join(world.seen()) or "nothing"))
    lines = [instruction] if instruction is not None else (line.rstrip("\n") for line in click.get_text_stream("stdin"))
    for text in lines:
        if instruction is None and not text.strip():
            continue
        start = time.perf_counter()
        try:
            answer = planner(text, world, None)
        except PlanError as exc:
            answer = Refusal(str(exc))
        ms = (time.perf_counter() - start) * 1e3
        if as_json:
            click.echo(json.dumps({"instruction": text, "scene": config.scene, "seed": seed, **answer.to_dict(),
                                   "seen": list(world.seen()), "plan_ms": round(ms, 3)}, ensure_ascii=False))
        else:
            click.echo(f"{text!r}: " + json.dumps(answer.to_dict(), ensure_ascii=False))


def _do_on_dds(config: object, desc: RobotDescription, wait_s: float, domain: int, interface: str) -> None:
    """``do --dds``: the executive follows the instruction on the robot serving the topics (its map:
    the scene's); the outcomes are what the robot saw, the falls its own flag."""
    from laoshan.brain.planner import LlmPlanner, plan_offline
    from laoshan.brain.screening import harm_reason
    from laoshan.brain.world_model import WorldModel
    from laoshan.executive.instruction import follow, keep_balancing
    from laoshan.executive.skill import Context, SiteMap
    from laoshan.limbs.reach import ReachConfig, ReachController
    from laoshan.scenarios.instruction import AFTER_S, TABLE_FRONT_X, TABLE_Z, InstructionScenario

    assert isinstance(config, InstructionScenario)
    harm = harm_reason(config.instruction)
    if harm is not None:
        click.echo(f"no plan: {harm}")
        raise SystemExit(1)
    if len(desc.hands) < 2 or not desc.cameras:
        _fail(f"{desc.name} needs two hands and a camera to follow instructions")
    world = WorldModel(places=config.places if config.scene == "table" else (), fixtures=config.fixtures(),
                       switches=config.switches())
    planner = LlmPlanner(config.llm_url).plan if config.llm_url else plan_offline
    found: list[object] = []

    def on_port(port: object, state: object, progress: Callable[[int], None]) -> object:
        controller = ReachController(desc, config=ReachConfig(settle_gain_1_s=0.0))
        ctx = Context(port, controller, world, config.executive(), SiteMap(TABLE_Z, TABLE_FRONT_X))  # type: ignore
        done = follow(ctx, config.instruction, planner, state, state.time_s + config.seconds,  # type: ignore
                      progress=progress)
        _, after = keep_balancing(ctx, done.state, AFTER_S, progress=progress)
        found.extend([controller, port])
        return done, after

    done, after = _on_dds(desc, domain, interface, wait_s, "following the instruction", config.seconds + AFTER_S,
                          on_port)
    controller, port = found
    click.echo("seen: " + "; ".join(done.seen))
    if done.plan is None:
        click.echo(f"no plan: {done.answer}")
        raise SystemExit(1)
    click.echo(f"plan ({done.plan_ms:.1f} ms, beside the loop): {done.plan.to_json()}")
    fell = controller.locomotion.fallen
    loop = done.loop
    rows = [[step, outcome] for step, outcome in done.outcomes]
    rows += [
        ["verified by the camera", "yes" if done.verified else "no" + (f" ({done.answer})" if done.answer else "")],
        ["fell (the robot's own flag)", "yes" if fell else "no"],
        _trips(controller.locomotion.safety.trip_log()),
        ["controller p99 / max [ms], deadline misses (acting)",
         f"{loop.tick_p99_ms:.2f} / {loop.tick_max_ms:.1f}, {loop.deadline_misses}" if loop else "-"],
        ["states / robot ticks missed / CRC errors",
         f"{port.stats.states} / {port.stats.missed_ticks} / {port.stats.crc_errors}"],
    ]
    _summary("do (DDS)", rows, None, fell or not done.verified)


@main.group()
def demo() -> None:
    """Demonstrations that string skills together."""


@demo.command()
@catalog_option
@click.option("--robot", default="g1-functional", show_default=True, help="Robot name or .toml path (two hands).")
@click.option("--to", "to_xy", default="0.42,0.1", show_default=True,
              help="Where the box goes on the table: x,y [m] (world; it starts at 0.42,0).")
@click.option("--jitter", default=0.0, show_default=True, type=Finite(0.0, 0.05),
              help="The box lies up to this far off its nominal place [m] (seeded).")
@click.option("--look", is_flag=True, help="Find the box with the head camera first (else: its nominal place).")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of sensor noise and box placement.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here.")
def tabletop(robot: str, to_xy: str, jitter: float, look: bool, seed: int, video: Path | None) -> None:
    """Pick a box from a table with both hands, carry it to a place, set it down and let go;
    print each phase's start time, then success, errors, time and energy."""
    from laoshan.scenarios.pick import START_S, PickScenario, run_pick

    place = _xy(to_xy)
    desc = _robot(robot)
    config = PickScenario(robot=robot, jitter_m=jitter, perceive=look, seed=seed, video=video, place_xy_m=place,
                          seconds=12.0)
    report = _with_progress(desc, "tabletop pick and place", config.seconds,
                            lambda progress: run_pick(config, progress, desc))
    click.echo(format_table(["phase", "starts at [s]"], [[phase, f"{t:.2f}"] for t, phase in report.timeline]))
    finished = next((t for t, phase in report.timeline if phase == "placed"), None)
    rows = [
        ["robot", report.robot],
        [f"success (placed within {config.place_tolerance_m * 100:.0f} cm, let go, no fall)",
         "yes" if report.success else "no"],
        ["place error [mm]", f"{report.place_error_m * 1e3:.1f}" if report.place_error_m is not None else "-"],
        ["box seen by the head camera, off by [mm]",
         f"{report.perception_error_m * 1e3:.1f}" if report.perception_error_m is not None else "- (not looking)"],
        ["box height left above the table [mm]", f"{report.lift_m * 1e3:.1f}"],
        ["task time [s]", f"{finished - START_S:.2f}" if finished is not None else "-"],
        *_task_rows(report),
    ]
    _summary("tabletop", rows, video, not report.success)


DOMAIN_CHOICE = click.Choice(["bank", "hospital", "government", "telecom", "mall"])
SPEAKER = re.compile(r"(?:^|\s)@(\S+)")


def _speakers(line: str, last: str) -> list[tuple[str, str]]:
    """``"@alice 我想开户 @bob hi"`` -> [("alice", "我想开户"), ("bob", "hi")]; no @name: ``last`` speaks."""
    parts = SPEAKER.split(line)
    said = [(last, parts[0].strip())] if parts[0].strip() else []
    said += [(name, text.strip()) for name, text in zip(parts[1::2], parts[2::2], strict=True)]
    return [(who, text) for who, text in said if text]


def _walk(hall: HallRobot, place: str, progress: Callable[[int], None]) -> GuideReport:
    return hall.walk_to(place, progress=progress)


@main.command()
@click.option("--domain", default="bank", show_default=True, type=DOMAIN_CHOICE, help="Which service hall.")
@click.option("--llm", "llm_url", metavar="URL",
              help="Recognise intents with an OpenAI-compatible chat endpoint (checked; offline when it fails).")
@click.option("--walk/--no-walk", default=True, show_default=True,
              help="Walk guided visitors to their place with the simulated robot (physics).")
@catalog_option
@click.option("--robot", default="g1-basic", show_default=True, help="Robot name or .toml path (for --walk).")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of the simulated hall (for --walk).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object per reply: person, text, language, intent, slots, cites, actions "
                   "(and walked, for a guided walk).")
def chat(domain: str, llm_url: str | None, walk: bool, robot: str, seed: int, as_json: bool) -> None:
    """Talk with the service robot of a hall in the terminal. Each line is what someone says; start
    it with @name to say who ("@alice 我想开户"); several @names on one line speak at once, and
    are answered in turn. A line without @ goes on with the last speaker. Ctrl-D ends."""
    import json

    from laoshan.brain.dialogue.manager import DialogueManager, Guide, HandOff, Ticket

    manager = DialogueManager.for_hall(domain, llm_url)
    hall = None
    stdin = click.get_binary_stream("stdin")
    interactive = stdin.isatty()
    click.echo(f"{manager.domain.hall['zh']} / {manager.domain.hall['en']} — @name says who speaks; Ctrl-D ends",
               err=as_json)
    last = "guest"
    for number in itertools.count(1):
        if interactive:
            click.echo("> ", nl=False)
        raw = stdin.readline()
        if not raw:
            break
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            click.echo(f"laoshan chat: input line {number} is not UTF-8 text; skipped", err=True)
            continue
        said = _speakers(line.strip(), last)
        for person, text in said:
            manager.hear(person, text)
            last = person
        while (reply := manager.respond()) is not None:
            record = reply.to_dict()
            if not as_json:
                cites = f"  [{', '.join(reply.cites)}]" if reply.cites else ""
                click.echo(f"robot → {reply.person}: {reply.text}{cites}")
            for action in reply.actions:
                if isinstance(action, Ticket) and not as_json:
                    click.echo(f"  ticket {action.number} ({action.intent})")
                elif isinstance(action, HandOff) and not as_json:
                    urgent = "URGENT: " if action.urgent else ""
                    click.echo(f"  {urgent}clerk called for {action.person}: {action.reason}")
                elif isinstance(action, Guide) and walk:
                    from laoshan.scenarios.guide import HallRobot

                    desc = _robot(robot)
                    hall = hall or HallRobot(manager.domain, desc, seed)
                    report = _with_progress(desc, f"guiding {reply.person} to {action.place}", 40.0,
                                            partial(_walk, hall, action.place))
                    outcome = "arrived" if report.success else ("fell" if report.fell else "did not arrive")
                    record["walked"] = {"place": action.place, "outcome": outcome, "error_m": report.error_m,
                                        "seconds": report.seconds}
                    if not as_json:
                        click.echo(f"  walked with {reply.person} to {action.place}: {outcome}, stopped "
                                   f"{report.error_m:.2f} m from its spot after {report.seconds:.1f} s")
                    if report.fell:
                        walk = False
            if as_json:
                click.echo(json.dumps(record, ensure_ascii=False))
    if manager.llm_failures:
        click.echo(f"the LLM backend failed {manager.llm_failures} times; the offline recogniser answered instead")


@main.command()
@click.option("--domain", default="bank", show_default=True, type=DOMAIN_CHOICE, help="Which service hall.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one).")
@click.option("--llm", "llm_url", metavar="URL",
              help="Recognise intents with an OpenAI-compatible chat endpoint (checked; offline when it fails).")
def serve(domain: str, host: str, port: int, llm_url: str | None) -> None:
    """Serve the hall's kiosk: a web page at /, POST /api/turn and a WebSocket at /ws (JSON
    {"person": ..., "text": ...} in, the reply out). Ctrl-C stops."""
    from laoshan.brain.dialogue.manager import DialogueManager
    from laoshan.ui.kiosk import make_server

    try:
        server = make_server(DialogueManager.for_hall(domain, llm_url), host, port)
    except OSError as exc:
        _fail(OSError(f"cannot serve on {host}:{port}: {exc.strerror or exc}"))
    click.echo(f"kiosk for {domain} at http://{server.server_address[0]}:{server.server_port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:       # uvicorn has shut down cleanly and passes Ctrl-C on
        pass
    finally:
        server.server_close()


@main.command()
@click.option("--domain", default="hospital", show_default=True, type=DOMAIN_CHOICE, help="Which service hall.")
@click.option("--to", "place", required=True, help="A place id of the hall, e.g. pharmacy.")
@catalog_option
@click.option("--robot", default="g1-basic", show_default=True, help="Robot name or .toml path.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of sensor noise.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here.")
def guide(domain: str, place: str, robot: str, seed: int, video: Path | None) -> None:
    """Walk from the hall's reception spot to a place's marked spot, on the robot's own pose
    estimate; print how far from the spot it stopped (ground truth), time and energy."""
    from laoshan.scenarios.guide import GOAL_TOLERANCE_M, GuideScenario, run_guide

    desc = _robot(robot)
    config = GuideScenario(domain=domain, place=place, robot=robot, seed=seed, video=video)
    report = _with_progress(desc, f"guiding to {place}", config.timeout_s,
                            lambda progress: run_guide(config, progress, desc))
    rows = [
        ["place", f"{place} at ({report.spot_xy_m[0]:.2f}, {report.spot_xy_m[1]:.2f}) m"],
        [f"success (stopped within {GOAL_TOLERANCE_M} m, standing)", "yes" if report.success else "no"],
        ["stopped from the spot [m]", f"{report.error_m:.3f}"],
        ["robot believed [m]", f"{report.estimated_error_m:.3f}"],
        ["fell", "yes" if report.fell else "no"],
        _trips(report.safety_trips),
        ["walk time (simulated) [s]", f"{report.seconds:.1f}"],
        ["real-time factor", f"{report.real_time_factor:.1f}x"],
    ]
    _summary("guide", rows, video, not report.success)


@main.group()
def fleet() -> None:
    """Several robots on one floor: tasks given out by the fleet manager, traffic reserved in
    space and time; every robot on its own controller, talking only over the bus."""


def _fleet_options(robots: int, what: str, robot: str = "g1-basic", needs: str = "",
                   seconds: float = 240.0) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed([
            catalog_option,
            click.option("--robot", default=robot, show_default=True,
                         help=f"Robot name or .toml path (each robot{needs})."),
            click.option("--robots", "count", default=robots, show_default=True, type=click.IntRange(1, 6),
                         help=f"How many robots {what}."),
            click.option("--seed", default=0, show_default=True, type=SEED,
                         help="Seed of the set-up (starts, spots, tables) and of sensor noise."),
            click.option("--seconds", default=seconds, show_default=True, type=Finite(min=5.0),
                         help="Give up after this long (simulated)."),
            click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here."),
        ]):
            command = option(command)
        return command
    return decorate


def _fleet_run(kind: str, robot: str, count: int, tasks: int, seed: int, seconds: float, video: Path | None,
               fail: tuple[int, float] | None = None) -> None:
    from laoshan.scenarios.fleet import FETCH_TOLERANCE_M, NEAR_MISS_M, FleetScenario, run_fleet

    desc = _robot(robot)
    try:
        config = FleetScenario(kind=kind, robots=count, tasks=tasks, robot=robot, seed=seed, seconds=seconds,
                               video=video, fail=fail)
    except ValueError as exc:
        _fail(exc)
    try:
        report = _with_progress(desc, f"x{count} {kind}", seconds,
                                lambda progress: run_fleet(config, progress, desc))
    except ValueError as exc:         # a robot that cannot do the kind's tasks
        _fail(exc)
    click.echo(format_table(["robot", "tasks done", "walked [m]", "energy [J]", "fell", "out because"],
                            [[r.name, r.tasks_done, r.walked_m, r.energy_J, "yes" if r.fell else "no", r.out or "-"]
                             for r in report.robots]))
    rows = [
        ["success (every task done, no fall, no collision)", "yes" if report.success else "no"],
        ["tasks done", f"{report.tasks_done} of {report.tasks}"],
        ["time (simulated) [s]", f"{report.time_s:.1f}"],
        ["robot-robot collisions", report.collisions],
        [f"near misses (bases within {NEAR_MISS_M} m)", report.near_misses],
        ["closest two robots came [m]", f"{report.closest_m:.2f}" if len(report.robots) > 1 else "-"],
        ["deadlock", "yes" if report.deadlock else "no"],
        ["plans made / failed", f"{report.plans} / {report.planning_failures}"],
        *([[f"cans standing within {FETCH_TOLERANCE_M * 100:g} cm of their spots", f"{report.delivered} of "
            f"{report.tasks}"],
           ["each can from its spot [cm]", ", ".join("-" if e == math.inf else f"{e * 100:.1f}"
                                                     for e in report.place_errors_m)]]
          if report.delivered is not None else []),
        ["tasks given up", "; ".join(report.given_up) or "-"],
        ["energy, all robots [J]", sum(r.energy_J for r in report.robots)],
        ["real-time factor", f"{report.real_time_factor:.2f}x"],
    ]
    _summary(f"fleet {kind}", rows, video, not report.success)


@fleet.command()
@_fleet_options(2, "start on a circle; each walks to the point opposite")
def cross(robot: str, count: int, seed: int, seconds: float, video: Path | None) -> None:
    """Robots whose straight paths all cross in the middle of the room, kept apart by the
    manager's reservations; print the run's figures."""
    _fleet_run("cross", robot, count, count, seed, seconds, video)


@fleet.command()
@_fleet_options(3, "share the spots")
@click.option("--spots", default=6, show_default=True, type=click.IntRange(1, 12), help="Inspection spots to visit.")
@click.option("--fail", "fail_at", metavar="ROBOT@SECONDS",
              help="A deliberate fault: robot ROBOT's controller dies at SECONDS (e.g. 1@20); its task goes to "
                   "another.")
def inspect(robot: str, count: int, seed: int, seconds: float, video: Path | None, spots: int,
            fail_at: str | None) -> None:
    """An inspection round: spots marked on a room's floor (tables in the way), each given to the
    robot it costs least, visited and looked at for 2 s; print the run's figures."""
    fail = None
    if fail_at is not None:
        which, _, when = fail_at.partition("@")
        try:
            fail = (int(which), float(when))
        except ValueError:
            _fail(ValueError(f"--fail takes ROBOT@SECONDS, e.g. 1@20, got {fail_at!r}"))
    _fleet_run("inspect", robot, count, spots, seed, seconds, video, fail)


@fleet.command()
@_fleet_options(3, "share the cans", "g1-functional", ": a right hand with fingers and a head camera", 600.0)
@click.option("--cans", default=6, show_default=True, type=click.IntRange(1, 6), help="Cans to fetch.")
def fetch(robot: str, count: int, seed: int, seconds: float, video: Path | None, cans: int) -> None:
    """Fetch cans across a room: each stands on a long table on one side and has its own spot on a
    table on the other; the manager gives each to the robot it costs least, reserves the aisle
    between, and the robot that picked a can delivers it. Each robot finds its can with its own
    head camera. Print the run's figures."""
    _fleet_run("fetch", robot, count, cans, seed, seconds, video)


@fleet.command()
@catalog_option
@click.option("--robot", default="g1-functional", show_default=True,
              help="Robot name or .toml path (both robots: two hands with fingers and a head camera).")
@click.option("--parts", default=2, show_default=True, type=click.IntRange(1, 2), help="Parts to hand over.")
@click.option("--jitter", default=0.01, show_default=True, type=Finite(0.0, 0.02),
              help="Each part stands up to this far off its place in the cell's layout [m].")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of part placement and sensor noise.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here.")
def line(robot: str, parts: int, jitter: float, seed: int, video: Path | None) -> None:
    """A line cell: robot A takes each part from its side of a table and holds it out, robot B
    across the table sees it with its own camera, takes it from A's hand and sets it down on its
    spot; they coordinate only over the bus. Print each part's outcome."""
    from laoshan.scenarios.line import LineScenario, run_line

    desc = _robot(robot)
    config = LineScenario(robot=robot, parts=parts, jitter_m=jitter, seed=seed, video=video)
    report = _with_progress(desc, f"line cell, {parts} part{'s' if parts > 1 else ''}", config.seconds,
                            lambda progress: run_line(config, progress, desc))
    rows = [
        ["success (every part handed over and set down, no fall, no collision)", "yes" if report.success else "no"],
        ["handed over (held by B alone as A let go)", f"{report.handed_over} of {report.parts}"],
        [f"set down upright within {config.place_tolerance_m * 100:g} cm of B's spot",
         f"{report.placed} of {report.parts}"],
        ["distance from the spots [cm]", ", ".join(f"{e * 100:.1f}" for e in report.place_errors_m)],
        ["what went wrong", "; ".join(report.failures) or "-"],
        ["fell / robot-robot collisions", f"{'yes' if report.fell else 'no'} / {report.collisions}"],
        ["time (simulated) [s]", f"{report.time_s:.1f}"],
        ["real-time factor", f"{report.time_s / report.wall_s:.2f}x"],
    ]
    _summary("fleet line", rows, video, not report.success)


@fleet.command("carry")
@catalog_option
@click.option("--robot", default="g1-functional", show_default=True,
              help="Robot name or .toml path (both robots: two hands).")
@click.option("--distance", default=3.0, show_default=True, type=Finite(1.0, 10.0),
              help="From the first rack to the second [m] (the seed shifts the second up to 0.2 m).")
@click.option("--seed", default=0, show_default=True, type=SEED,
              help="Seed of the bar's placement, the second rack's shift and sensor noise.")
@click.option("--video", type=click.Path(dir_okay=False, path_type=Path), help="Write an MP4 here.")
def carry_together(robot: str, distance: float, seed: int, video: Path | None) -> None:
    """Two robots carry one 1.2 m, 4 kg bar: each squeezes an end, they lift it together, walk
    sideways to a second rack (the follower going by what its arms feel) and set it down; they
    coordinate only over the bus. Print the run's figures."""
    from laoshan.scenarios.bar_carry import BarCarryScenario, run_bar_carry

    desc = _robot(robot)
    config = BarCarryScenario(robot=robot, distance_m=distance, seed=seed, video=video)
    report = _with_progress(desc, f"carrying a bar {distance:g} m", config.seconds,
                            lambda progress: run_bar_carry(config, progress, desc))
    click.echo(format_table(["robot", "energy [J]", "most the bar drew its hands [cm]"],
                            [[name, energy, f"{give:.1f}"] for name, energy, give
                             in zip(("A (follower)", "B (leader)"), report.energy_J, report.peak_give_cm,
                                    strict=True)]))
    rows = [
        ["success (on the rack, never dropped, no fall, no collision)", "yes" if report.success else "no"],
        ["bar on the second rack, level", "yes" if report.on_rack else "no"],
        ["bar's centre from the rack's [cm] (along the bar, along the way)",
         f"{report.off_m * 100:.1f} ({report.off_xy_m[0] * 100:+.1f}, {report.off_xy_m[1] * 100:+.1f})"],
        ["carried [m]", f"{report.carried_m:.2f}"],
        ["carry time, setting off to set down [s]", "-" if report.carry_s is None else f"{report.carry_s:.1f}"],
        ["what went wrong", "; ".join(report.failures) or "-"],
        ["dropped / fell / robot-robot collisions",
         f"{'yes' if report.dropped else 'no'} / {'yes' if report.fell else 'no'} / {report.collisions}"],
        ["time (simulated) [s]", f"{report.time_s:.1f}"],
        ["real-time factor", f"{report.time_s / report.wall_s:.2f}x"],
    ]
    _summary("fleet carry", rows, video, not report.success)


if __name__ == "__main__":
    main()

"""Robot descriptions: a small TOML file per robot, checked field by field.

A description names the URDF, the motors in low-level command order (joint, catalog part, home
angle, default joint gains), the feet (sole contact points), the hands, and where each sensor
sits. Any humanoid URDF can be added by writing such a file; no code changes.
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from laoshan.components.catalog import Catalog, CatalogError, load_catalog


class RobotConfigError(ValueError):
    """A robot description is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class MotorAssignment:
    """One motor slot of the low-level command, in command order."""

    joint: str          # URDF joint it drives
    part: str           # catalog motor id
    home_rad: float     # joint angle of the home (standing) posture
    kp_Nm_rad: float    # default joint stiffness of the stand controller
    kd_Nms_rad: float   # default joint damping of the stand controller


@dataclass(frozen=True)
class FootSpec:
    link: str                                          # URDF link of the sole
    sole_points_m: tuple[tuple[float, float, float], ...]  # contact sphere centres, foot-link frame
    sole_radius_m: float                               # contact sphere radius
    force_part: str                                    # catalog force sensor under the sole


@dataclass(frozen=True)
class HandSpec:
    link: str                             # URDF link of the hand (palm or wrist flange)
    offset_m: tuple[float, float, float]  # grasp centre in that link's frame
    closing: dict[str, float] = field(default_factory=dict)   # finger joint -> +1 or -1: the way it
                                                              # turns to close the hand; others hold
    motors: tuple[int, ...] = ()          # the motors (command order) of the joints below ``link``: its fingers
    touch: tuple[int, ...] = ()           # the touch pads (description order) on ``link`` and below it


@dataclass(frozen=True)
class CapsuleSpec:
    """A capsule of the robot's own collision model (for planning): the segment from a point in
    ``link_a``'s frame to a point in ``link_b``'s frame, swept by a sphere."""

    link_a: str
    link_b: str
    radius_m: float
    a_offset_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    b_offset_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    self_collision: bool = True           # False: not checked against the body (a link at its root)


@dataclass(frozen=True)
class ImuMount:
    link: str   # URDF link the IMU is fixed to (its frame is the IMU frame)
    part: str   # catalog IMU id


@dataclass(frozen=True)
class SensorMount:
    """A named sensor fixed to a link: a camera (looks along the link's +x axis, image up +z)
    or a touch pad (covers the link's collision geometry)."""

    name: str
    link: str   # URDF link
    part: str   # catalog id (camera or touch kind)


@dataclass(frozen=True)
class GaitSpec:
    """How this body walks: the numbers of its size (the controllers' gains are generic)."""

    com_height_m: float                      # CoM height above the soles while walking
    foot_height_m: float                     # swing foot apex
    single_support_s: float                  # one step's swing time
    max_step_forward_m: float                # step limits, stance-foot frame ...
    max_step_backward_m: float
    max_step_lateral_m: float
    max_step_yaw_rad: float
    capture_reach_m: tuple[float, float]     # a step that catches a push: reach forward, backward ...
    capture_spacing_m: tuple[float, float]   # ... and the feet centres' lateral distance, least and most


GAIT_FIELDS = tuple(GaitSpec.__dataclass_fields__)


@dataclass(frozen=True)
class RobotDescription:
    """A whole-machine product: URDF + motors + sensors + power, ready to build."""

    name: str
    product: str                       # "basic" or "functional"
    summary: str
    urdf_path: Path
    base_link: str
    controller: str                    # catalog controller id
    battery: str                       # catalog battery id
    encoder: str                       # catalog encoder id (all joints)
    motors: tuple[MotorAssignment, ...]
    feet: dict[str, FootSpec]          # "left", "right"
    hands: dict[str, HandSpec]
    imu: ImuMount
    cameras: tuple[SensorMount, ...] = ()
    touch: tuple[SensorMount, ...] = ()
    collision: tuple[CapsuleSpec, ...] = ()   # the planner's model of the body (none: no planning)
    gait: GaitSpec | None = None       # how it walks (none: it cannot walk)
    source: str = ""                   # file it was read from
    catalog: Catalog = field(default_factory=Catalog, repr=False)

    @property
    def joint_names(self) -> list[str]:
        return [m.joint for m in self.motors]

    def motor_specs(self) -> list[Any]:
        return [self.catalog.get("motor", m.part) for m in self.motors]

    def walking(self) -> GaitSpec:
        """The gait table; a description without one cannot walk, and the error says what it needs."""
        if self.gait is None:
            raise RobotConfigError(f"{Path(self.source).name or self.name}: no [gait] table, so {self.name} cannot "
                                   f"walk; it needs {', '.join(GAIT_FIELDS)}")
        return self.gait


# --- finding the URDF ---------------------------------------------------------------------------

def example_robot_data_dir() -> Path:
    """The robots folder installed by the ``example-robot-data`` package."""
    for entry in sys.path:
        candidate = Path(entry) / "cmeel.prefix" / "share" / "example-robot-data" / "robots"
        if candidate.is_dir():
            return candidate
    raise RobotConfigError(
        "example-robot-data is not installed (no cmeel.prefix/share/example-robot-data/robots on "
        "sys.path); install the project with `pip install -e .`"
    )


def resolve_urdf(value: str, relative_to: Path) -> Path:
    """``erd:<path>`` is inside example-robot-data's robots folder; else relative to the file."""
    if value.startswith("erd:"):
        path = example_robot_data_dir() / value[4:]
    else:
        path = (relative_to / value).resolve()
    if not path.is_file():
        raise RobotConfigError(f"urdf: file not found: {path}")
    return path


# --- parsing ------------------------------------------------------------------------------------

_REQUIRED: Any = object()  # sentinel: the field has no default


class _Table:
    """Typed access to a TOML table that names the field in every error."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise RobotConfigError(f"{where}: expected a table, got {type(data).__name__}")
        self.data = data
        self.where = where
        self.used: set[str] = set()

    def _get(self, key: str, default: Any) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is _REQUIRED:
                raise RobotConfigError(f"{self.where}: missing field '{key}'")
            return default
        return self.data[key]

    def text(self, key: str, default: Any = _REQUIRED) -> str:
        v = self._get(key, default)
        if not isinstance(v, str) or not v:
            raise RobotConfigError(f"{self.where}.{key}: expected a non-empty string, got {v!r}")
        return v

    def num(self, key: str, lo: float, hi: float, unit: str) -> float:
        v = self._get(key, _REQUIRED)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise RobotConfigError(f"{self.where}.{key}: expected a number in {unit}, got {v!r}")
        if not lo <= v <= hi:
            raise RobotConfigError(
                f"{self.where}.{key}={v} is outside [{lo}, {hi}] {unit}: check the unit ({unit} expected)"
            )
        return float(v)

    def vec3(self, key: str, max_abs: float, unit: str, default: Any = _REQUIRED) -> tuple[float, float, float]:
        v = self._get(key, default)
        ok = isinstance(v, list) and len(v) == 3 and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
        if not ok:
            raise RobotConfigError(f"{self.where}.{key}: expected [x, y, z] in {unit}, got {v!r}")
        if max(abs(x) for x in v) > max_abs:
            raise RobotConfigError(f"{self.where}.{key}={v}: |value| > {max_abs} {unit}; check the unit")
        return (float(v[0]), float(v[1]), float(v[2]))

    def items(self, key: str, required: bool = True) -> list[Any]:
        v = self._get(key, _REQUIRED if required else [])
        if not isinstance(v, list):
            raise RobotConfigError(f"{self.where}.{key}: expected a list, got {type(v).__name__}")
        return v

    def sub(self, key: str, required: bool = True) -> dict[str, Any]:
        v = self._get(key, _REQUIRED if required else {})
        if not isinstance(v, dict):
            raise RobotConfigError(f"{self.where}.{key}: expected a table, got {type(v).__name__}")
        return v

    def part(self, catalog: Catalog, kind: str, key: str = "part") -> str:
        """A catalog part id that must exist in ``catalog`` under ``kind``."""
        part_id = self.text(key)
        try:
            catalog.get(kind, part_id)
        except CatalogError as exc:
            raise RobotConfigError(f"{self.where}.{key}: {exc}") from None
        return part_id

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise RobotConfigError(f"{self.where}: unknown field(s) {unknown}")



def parse_description(data: dict[str, Any], source: Path, catalog: Catalog) -> RobotDescription:
    """Build and check a :class:`RobotDescription` from TOML data read from ``source``."""
    top = _Table(data, source.name)
    name = top.text("name")
    product = top.text("product")
    if product not in ("basic", "functional"):
        raise RobotConfigError(f"{source.name}.product: expected 'basic' or 'functional', got {product!r}")
    urdf_path = resolve_urdf(top.text("urdf"), source.parent)
    joints = _urdf_joints(urdf_path)
    links = _urdf_links(urdf_path)

    def link(t: _Table, key: str = "link") -> str:
        value = t.text(key)
        if value not in links:
            raise RobotConfigError(f"{t.where}.{key}: link '{value}' is not in {urdf_path.name}")
        return value

    motors = []
    seen: set[str] = set()
    for i, raw in enumerate(top.items("motors")):
        t = _Table(raw, f"{source.name}.motors[{i}]")
        joint = t.text("joint")
        if joint not in joints:
            raise RobotConfigError(f"{t.where}.joint: joint '{joint}' is not a moving joint of {urdf_path.name}")
        if joint in seen:
            raise RobotConfigError(f"{t.where}.joint: joint '{joint}' is listed twice")
        seen.add(joint)
        lo, hi = joints[joint]
        motors.append(MotorAssignment(
            joint=joint,
            part=t.part(catalog, "motor"),
            home_rad=t.num("home_rad", lo, hi, "rad (within the joint limits)"),
            kp_Nm_rad=t.num("kp_Nm_rad", 0.0, 10000.0, "N·m/rad"),
            kd_Nms_rad=t.num("kd_Nms_rad", 0.0, 500.0, "N·m·s/rad"),
        ))
        t.done()
    missing = sorted(set(joints) - seen)
    if missing:
        raise RobotConfigError(f"{source.name}.motors: joints of the URDF without a motor: {missing}")

    feet = {}
    for side, raw in top.sub("feet").items():
        t = _Table(raw, f"{source.name}.feet.{side}")
        points = t.items("sole_points_m")
        if len(points) < 3:
            raise RobotConfigError(f"{t.where}.sole_points_m: need at least 3 contact points")
        checked = []
        for k, p in enumerate(points):
            pt = _Table({"p": p}, f"{t.where}.sole_points_m[{k}]")
            checked.append(pt.vec3("p", 0.5, "m"))
        feet[side] = FootSpec(
            link=link(t), sole_points_m=tuple(checked),
            sole_radius_m=t.num("sole_radius_m", 0.0005, 0.05, "m"),
            force_part=t.part(catalog, "force", "force_part"),
        )
        t.done()
    if set(feet) != {"left", "right"}:
        raise RobotConfigError(f"{source.name}.feet: expected tables 'left' and 'right', got {sorted(feet)}")

    hands = {}
    motor_joints = {m.joint for m in motors}
    for side, raw in top.sub("hands").items():
        t = _Table(raw, f"{source.name}.hands.{side}")
        closing = t.sub("closing", required=False)
        for joint, sign in closing.items():
            if joint not in motor_joints:
                raise RobotConfigError(f"{t.where}.closing: {joint!r} is not a motor joint")
            if sign not in (-1, 1):
                raise RobotConfigError(f"{t.where}.closing.{joint}={sign!r} must be 1 or -1")
        hand_link = link(t)
        below = _subtree(urdf_path, hand_link)[1]
        hands[side] = HandSpec(link=hand_link, offset_m=t.vec3("offset_m", 0.5, "m", default=[0, 0, 0]),
                               closing={joint: float(sign) for joint, sign in closing.items()},
                               motors=tuple(i for i, m in enumerate(motors) if m.joint in below))
        t.done()

    ti = _Table(top.sub("imu"), f"{source.name}.imu")
    imu = ImuMount(link=link(ti), part=ti.part(catalog, "imu"))
    ti.done()

    def mounts(key: str, kind: str) -> tuple[SensorMount, ...]:
        out = []
        for i, raw in enumerate(top.items(key, required=False)):
            t = _Table(raw, f"{source.name}.{key}[{i}]")
            out.append(SensorMount(name=t.text("name"), link=link(t), part=t.part(catalog, kind)))
            t.done()
        return tuple(out)

    touch = mounts("touch", "touch")
    for side, hand in hands.items():
        below_links = _subtree(urdf_path, hand.link)[0]
        hands[side] = replace(hand, touch=tuple(i for i, pad in enumerate(touch) if pad.link in below_links))

    capsules = []
    for i, raw in enumerate(top.items("collision", required=False)):
        t = _Table(raw, f"{source.name}.collision[{i}]")
        self_collision = t._get("self_collision", True)
        if not isinstance(self_collision, bool):
            raise RobotConfigError(f"{t.where}.self_collision: expected true or false, got {self_collision!r}")
        capsules.append(CapsuleSpec(
            link_a=link(t, "link_a"), link_b=link(t, "link_b"), radius_m=t.num("radius_m", 0.005, 0.5, "m"),
            a_offset_m=t.vec3("a_offset_m", 1.0, "m", default=[0, 0, 0]),
            b_offset_m=t.vec3("b_offset_m", 1.0, "m", default=[0, 0, 0]), self_collision=self_collision))
        t.done()

    gait = None
    if "gait" in data:
        t = _Table(top.sub("gait"), f"{source.name}.gait")
        pair = {"capture_reach_m": (0.02, 2.0), "capture_spacing_m": (0.05, 1.0)}
        values: dict[str, Any] = {}
        for key, (lo, hi) in pair.items():
            raw = t.items(key)
            if len(raw) != 2:
                raise RobotConfigError(f"{t.where}.{key}: expected [a, b] in m, got {raw!r}")
            values[key] = tuple(_Table({"v": v}, f"{t.where}.{key}").num("v", lo, hi, "m") for v in raw)
        if not values["capture_spacing_m"][0] < values["capture_spacing_m"][1]:
            raise RobotConfigError(f"{t.where}.capture_spacing_m: the least must be below the most")
        gait = GaitSpec(
            com_height_m=t.num("com_height_m", 0.2, 2.0, "m"), foot_height_m=t.num("foot_height_m", 0.01, 0.3, "m"),
            single_support_s=t.num("single_support_s", 0.2, 1.5, "s"),
            max_step_forward_m=t.num("max_step_forward_m", 0.01, 1.0, "m"),
            max_step_backward_m=t.num("max_step_backward_m", 0.01, 1.0, "m"),
            max_step_lateral_m=t.num("max_step_lateral_m", 0.01, 1.0, "m"),
            max_step_yaw_rad=t.num("max_step_yaw_rad", 0.01, 1.5, "rad"), **values)
        t.done()

    desc = RobotDescription(
        name=name, product=product, summary=top.text("summary"), urdf_path=urdf_path,
        base_link=link(top, "base_link"),
        controller=top.part(catalog, "controller", "controller"),
        battery=top.part(catalog, "battery", "battery"), encoder=top.part(catalog, "encoder", "encoder"),
        motors=tuple(motors), feet=feet, hands=hands, imu=imu, cameras=mounts("cameras", "camera"),
        touch=touch, collision=tuple(capsules), gait=gait, source=str(source), catalog=catalog,
    )
    top.done()
    return desc


def _urdf_root(urdf_path: Path) -> Any:
    import xml.etree.ElementTree as ET

    try:
        return ET.parse(urdf_path).getroot()
    except ET.ParseError as exc:
        raise RobotConfigError(f"urdf: {urdf_path} is not valid XML: {exc}") from None


def _urdf_joints(urdf_path: Path) -> dict[str, tuple[float, float]]:
    """Moving (revolute/prismatic) joints of a URDF and their limits [rad or m]."""
    out = {}
    for j in _urdf_root(urdf_path).iter("joint"):
        if j.get("type") in ("revolute", "prismatic"):
            lim = j.find("limit")
            lo = float(lim.get("lower", "-inf")) if lim is not None else float("-inf")
            hi = float(lim.get("upper", "inf")) if lim is not None else float("inf")
            out[j.get("name", "")] = (lo, hi)
    return out


def _subtree(urdf_path: Path, link: str) -> tuple[set[str], set[str]]:
    """The links (``link`` too) and the joints of the URDF's subtree from ``link``."""
    edges = [(j.find("parent"), j.find("child"), j.get("name", "")) for j in _urdf_root(urdf_path).iter("joint")]
    edges = [(p.get("link"), c.get("link"), name) for p, c, name in edges if p is not None and c is not None]
    links, joints = {link}, set()
    grew = True
    while grew:
        grew = False
        for parent, child, name in edges:
            if parent in links and child not in links:
                links.add(child)
                joints.add(name)
                grew = True
    return links, joints


def _urdf_links(urdf_path: Path) -> set[str]:
    return {link.get("name", "") for link in _urdf_root(urdf_path).iter("link")}


# --- registry -----------------------------------------------------------------------------------

def robot_files() -> dict[str, Path]:
    """The robot description files shipped with Laoshan, by robot name (file stem, '_' -> '-')."""
    folder = resources.files("laoshan.robot").joinpath("robots")
    return {Path(str(p)).stem.replace("_", "-"): Path(str(p))
            for p in folder.iterdir() if str(p).endswith(".toml")}


def load_description(name_or_path: str | Path, catalog: Catalog | None = None) -> RobotDescription:
    """A shipped robot by name (``g1-basic``) or any description file by path."""
    catalog = catalog or load_catalog()
    files = robot_files()
    path = files.get(str(name_or_path)) or Path(name_or_path)
    if not path.is_file():
        raise RobotConfigError(f"unknown robot '{name_or_path}'; shipped robots are {sorted(files)}, "
                               "or give the path of a robot .toml file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise RobotConfigError(f"{path}: not a robot description (not UTF-8 text)") from None
    except OSError as exc:
        raise RobotConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RobotConfigError(f"{path.name}: not valid TOML: {exc}") from None
    return parse_description(data, path, catalog)

"""Worlds: floor and terrain, tables, cabinets with a drawer or a door, open shelves, push buttons,
blocks with a hole, free objects, towels — from a typed, seeded description.

Everything here is a plain rigid body, static geometry or cloth: objects are free bodies that rest on
tables and floors by contact, a towel is a MuJoCo flex (point masses on a grid, held together by
edge constraints and a bending stiffness), drawers slide on a damped rail, doors swing on a damped hinge, a
button's cap on a spring, and all are moved only by contact forces. A button's lamp is the one
device with logic: it lights once the cap is pressed in far enough (:class:`Lamps`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal, TypeVar

import mujoco
import numpy as np

from laoshan.robot.mujoco_model import ENV_CONAFFINITY, ENV_CONTYPE

TerrainKind = Literal["flat", "slope", "cross-slope", "steps", "stairs", "rough"]
TERRAINS: tuple[str, ...] = ("flat", "slope", "cross-slope", "steps", "stairs", "rough")
SHAPES: tuple[str, ...] = ("box", "cylinder", "sphere")
CROSS_FOOT_M = -0.25  # cross-slope: where across the way (y) the hillside rises from the floor
CROSS_BLEND_M = 1.2   # cross-slope: length over which it twists in from the level floor (and back out)
DOOR_THICKNESS_M = 0.02
HANDLE_RGBA = (0.3, 0.3, 0.35, 1.0)   # a handle bar's colour unless told (dark: the camera sees no object)
LAMP_OFF_RGBA = (0.25, 0.27, 0.25, 1.0)  # an unlit lamp (dark, as a handle)


class WorldError(ValueError):
    """A world description is malformed."""


@dataclass(frozen=True)
class Terrain:
    """Ground in front of the robot (+x); flat floor everywhere else."""

    kind: TerrainKind = "flat"
    start_x_m: float = 1.0          # the feature begins this far along +x from the origin
    slope_deg: float = 10.0         # slope: ramp incline; cross-slope: the ground's incline across the way (y)
    length_m: float = 3.0           # slope: ramp length along x; rough, cross-slope: patch length
    step_height_m: float = 0.10     # steps, stairs: rise per step
    step_depth_m: float = 0.30      # stairs: tread depth
    n_steps: int = 4                # stairs: steps up to the landing (and as many down after it)
    platform_m: float = 1.2         # steps: the platform one step up and one down; stairs: the landing
    rough_amplitude_m: float = 0.03  # rough: peak-to-peak height of the heightfield
    friction: float = 1.0           # sliding friction coefficient of floor and terrain

    def __post_init__(self) -> None:
        if self.kind not in TERRAINS:
            raise WorldError(f"terrain kind '{self.kind}' is unknown; choose one of {TERRAINS}")
        if not 0.0 <= self.slope_deg < 45.0:
            raise WorldError(f"slope_deg={self.slope_deg} must be in [0, 45) degrees")
        if not 0.0 <= self.step_height_m <= 0.5 or self.step_depth_m <= 0.05 or self.platform_m <= 0.05:
            raise WorldError("step_height_m must be in [0, 0.5] m, step_depth_m and platform_m > 0.05 m")
        if not 1 <= self.n_steps <= 20:
            raise WorldError(f"n_steps={self.n_steps} must be in [1, 20]")
        if not 0.0 <= self.rough_amplitude_m <= 0.3:
            raise WorldError(f"rough_amplitude_m={self.rough_amplitude_m} must be in [0, 0.3] m")
        if not 0.0 < self.friction <= 5.0:
            raise WorldError(f"friction={self.friction} must be in (0, 5]")


@dataclass(frozen=True)
class Table:
    """A static table: a box top on the floor."""

    name: str
    center_xy_m: tuple[float, float]
    top_size_m: tuple[float, float]   # length along x, width along y
    height_m: float = 0.75
    yaw_rad: float = 0.0

    def covers(self, xy_m: tuple[float, float], margin_m: float = 0.0) -> bool:
        """Whether the table top lies under the point ``xy_m`` (world) and every point within
        ``margin_m`` of it in x and y (in the table's own axes)."""
        c, s = np.cos(self.yaw_rad), np.sin(self.yaw_rad)
        dx, dy = xy_m[0] - self.center_xy_m[0], xy_m[1] - self.center_xy_m[1]
        along, across = c * dx + s * dy, -s * dx + c * dy
        return bool(abs(along) + margin_m <= self.top_size_m[0] / 2 + 1e-9
                    and abs(across) + margin_m <= self.top_size_m[1] / 2 + 1e-9)


@dataclass(frozen=True)
class Drawer:
    """A cabinet facing -x (toward a robot at the origin) with one drawer at the top, on a rail.

    The drawer's handle is a horizontal bar standing ``handle_gap_m`` off its front; the slide
    joint ``{name}_slide`` reads 0 closed and -opening [m] when pulled out.
    """

    name: str
    front_x_m: float                    # cabinet front face
    center_y_m: float
    handle_height_m: float = 0.80       # handle bar axis above the floor
    width_m: float = 0.40
    depth_m: float = 0.40
    handle_gap_m: float = 0.06          # clear space between the bar and the drawer front
    handle_radius_m: float = 0.01
    handle_length_m: float = 0.16
    travel_m: float = 0.30              # the rail's stop
    mass_kg: float = 2.0
    damping_Ns_m: float = 5.0           # rail damping ...
    friction_N: float = 3.0             # ... and dry friction
    handle_rgba: tuple[float, float, float, float] = HANDLE_RGBA

    def __post_init__(self) -> None:
        if not 0.3 <= self.handle_height_m <= 1.5:
            raise WorldError(f"drawer '{self.name}': handle_height_m={self.handle_height_m} must be in [0.3, 1.5] m")
        if min(self.width_m, self.depth_m, self.handle_gap_m, self.travel_m, self.mass_kg) <= 0:
            raise WorldError(f"drawer '{self.name}': sizes, travel and mass must be > 0")
        if not self.handle_length_m < self.width_m:
            raise WorldError(f"drawer '{self.name}': the handle must be shorter than the drawer is wide")

    @property
    def handle_xyz_m(self) -> np.ndarray:
        """The handle bar's centre with the drawer closed (world)."""
        return np.array([self.front_x_m - self.handle_gap_m - self.handle_radius_m,
                         self.center_y_m, self.handle_height_m])


@dataclass(frozen=True)
class Door:
    """A cabinet facing -x (toward a robot at the origin) with a door hinged on its left edge (+y,
    seen from the robot), like an appliance door.

    A horizontal handle bar stands ``handle_gap_m`` off the door near its free edge; the hinge
    joint ``{name}_hinge`` reads 0 closed and the opening angle [rad] as the door swings toward
    the robot.
    """

    name: str
    front_x_m: float                    # cabinet front face (the closed door's inner face)
    center_y_m: float
    handle_height_m: float = 0.75       # handle bar axis above the floor
    width_m: float = 0.40
    depth_m: float = 0.40
    handle_inset_m: float = 0.09        # handle centre this far in from the door's free edge
    handle_gap_m: float = 0.06
    handle_radius_m: float = 0.01
    handle_length_m: float = 0.12
    max_open_rad: float = 2.0
    mass_kg: float = 2.0
    damping_Nms_rad: float = 0.5        # hinge damping ...
    friction_Nm: float = 0.3            # ... and dry friction
    handle_rgba: tuple[float, float, float, float] = HANDLE_RGBA

    def __post_init__(self) -> None:
        if not 0.3 <= self.handle_height_m <= 1.5:
            raise WorldError(f"door '{self.name}': handle_height_m={self.handle_height_m} must be in [0.3, 1.5] m")
        if min(self.width_m, self.depth_m, self.handle_gap_m, self.max_open_rad, self.mass_kg) <= 0:
            raise WorldError(f"door '{self.name}': sizes, opening and mass must be > 0")
        if not self.handle_inset_m + self.handle_length_m / 2 < self.width_m:
            raise WorldError(f"door '{self.name}': the handle must lie on the door")

    @property
    def hinge_xyz_m(self) -> np.ndarray:
        """A point on the hinge axis (world)."""
        return np.array([self.front_x_m - DOOR_THICKNESS_M, self.center_y_m + self.width_m / 2, self.handle_height_m])

    @property
    def handle_xyz_m(self) -> np.ndarray:
        """The handle bar's centre with the door closed (world)."""
        return np.array([self.front_x_m - DOOR_THICKNESS_M - self.handle_gap_m - self.handle_radius_m,
                         self.center_y_m - self.width_m / 2 + self.handle_inset_m, self.handle_height_m])


@dataclass(frozen=True)
class Shelf:
    """A static open shelf facing -x (toward a robot at the origin): two sides, a back and boards
    whose top faces are at ``board_heights_m``; the top board is the shelf's roof."""

    name: str
    front_x_m: float
    center_y_m: float
    board_heights_m: tuple[float, ...] = (0.45, 0.70, 0.95)
    width_m: float = 0.60
    depth_m: float = 0.30
    thickness_m: float = 0.02

    def __post_init__(self) -> None:
        h = self.board_heights_m
        if not h or any(b <= a for a, b in zip(h, h[1:], strict=False)) or not (0.05 <= h[0] and h[-1] <= 2.0):
            raise WorldError(f"shelf '{self.name}': board heights must rise within [0.05, 2] m, got {h}")
        if min(self.width_m, self.depth_m, self.thickness_m) <= 0:
            raise WorldError(f"shelf '{self.name}': sizes must be > 0")

    def boxes(self) -> tuple[tuple[str, tuple[float, float, float], tuple[float, float, float]], ...]:
        """Its parts as (name, centre [m, world], half sizes [m]): what it is built of, and what a
        planner that knows the shelf keeps clear of."""
        t, hx, hy = self.thickness_m, self.depth_m / 2, self.width_m / 2
        x, y, top = self.front_x_m + hx, self.center_y_m, self.board_heights_m[-1]
        parts = [(f"{self.name}_board{k}", (x, y, z - t / 2), (hx, hy, t / 2))
                 for k, z in enumerate(self.board_heights_m)]
        parts += [(f"{self.name}_back", (x + hx - t / 2, y, top / 2), (t / 2, hy, top / 2)),
                  (f"{self.name}_left", (x, y + hy - t / 2, top / 2), (hx, t / 2, top / 2)),
                  (f"{self.name}_right", (x, y - hy + t / 2, top / 2), (hx, t / 2, top / 2))]
        return tuple(parts)


@dataclass(frozen=True)
class Button:
    """A push button on a panel facing -x (toward a robot at the origin), the panel on a post, with
    a round lamp above the button: a call or start button. The cap slides in on a spring (the slide
    joint ``{name}_press`` reads how far in [m], up to ``travel_m``); once it is in ``trigger_m``
    the lamp lights and stays lit."""

    name: str
    front_x_m: float                    # the panel's face
    center_y_m: float
    height_m: float = 0.85              # the button's axis above the floor
    cap_radius_m: float = 0.022
    cap_out_m: float = 0.015            # the cap stands this far out of the panel
    travel_m: float = 0.012
    trigger_m: float = 0.006
    spring_N_m: float = 300.0           # the cap's spring (at full travel: 3.6 N)
    lamp_above_m: float = 0.055         # the lamp's centre above the button's axis
    lamp_radius_m: float = 0.012
    cap_rgba: tuple[float, float, float, float] = (0.85, 0.1, 0.1, 1.0)
    lamp_rgba: tuple[float, float, float, float] = (0.1, 0.9, 0.2, 1.0)   # lit

    def __post_init__(self) -> None:
        if not 0.3 <= self.height_m <= 1.5:
            raise WorldError(f"button '{self.name}': height_m={self.height_m} must be in [0.3, 1.5] m")
        if min(self.cap_radius_m, self.cap_out_m, self.spring_N_m, self.lamp_radius_m) <= 0:
            raise WorldError(f"button '{self.name}': sizes and the spring must be > 0")
        if not 0.0 < self.trigger_m < self.travel_m < self.cap_out_m:
            raise WorldError(f"button '{self.name}': need 0 < trigger_m < travel_m < cap_out_m")

    @property
    def cap_xyz_m(self) -> np.ndarray:
        """The centre of the cap's face, not pressed (world)."""
        return np.array([self.front_x_m - self.cap_out_m, self.center_y_m, self.height_m])

    @property
    def lamp_xyz_m(self) -> np.ndarray:
        """The centre of the lamp's face (world)."""
        return np.array([self.front_x_m - 0.003, self.center_y_m, self.height_m + self.lamp_above_m])


@dataclass(frozen=True)
class Mannequin:
    """A person standing still (a static figure), facing the robot (-x), holding out an open hand,
    palm up, to be handed something: a static figure of legs (in ``clothes_rgba``), body, head and an arm down to a
    flat palm (in ``glove_rgba``) in front of them. Its geoms are static: what is set on the palm
    rests there by contact."""

    name: str
    xy_m: tuple[float, float]                 # where they stand (between the feet, world)
    palm_xyz_m: tuple[float, float, float]    # the palm's top face, centre (world)
    palm_size_m: tuple[float, float] = (0.14, 0.12)   # along x, y
    height_m: float = 1.65
    clothes_rgba: tuple[float, float, float, float] = (0.55, 0.2, 0.75, 1.0)   # purple trousers and shirt
    glove_rgba: tuple[float, float, float, float] = (0.95, 0.5, 0.1, 1.0)      # orange
    friction: float = 1.0

    def __post_init__(self) -> None:
        reach = float(np.linalg.norm(np.array(self.palm_xyz_m[:2]) - self.xy_m))
        if not 0.3 <= self.palm_xyz_m[2] <= 1.3 or not 0.1 <= reach <= 0.7:
            raise WorldError(f"person '{self.name}': the palm must be 0.3-1.3 m high and 0.1-0.7 m from them")
        if min(self.palm_size_m) <= 0 or not 1.0 <= self.height_m <= 2.1:
            raise WorldError(f"person '{self.name}': palm sizes must be > 0 and the height in [1, 2.1] m")


class Lamps:
    """The buttons' lamps of a compiled world: call :meth:`update` after each physics step; a lamp
    lights (its geom turns ``lamp_rgba``, what the cameras render) once its button is pressed in
    ``trigger_m``, and stays lit until :meth:`reset`."""

    def __init__(self, model: mujoco.MjModel, buttons: tuple[Button, ...]) -> None:
        self.model, self.buttons = model, buttons
        self._qadr = [int(model.joint(f"{b.name}_press").qposadr[0]) for b in buttons]
        self._geom = [model.geom(f"{b.name}_lamp").id for b in buttons]
        self.lit: dict[str, bool] = {}
        self.reset()

    def reset(self) -> None:
        self.lit = {b.name: False for b in self.buttons}
        for g in self._geom:
            self.model.geom_rgba[g] = LAMP_OFF_RGBA

    def update(self, data: mujoco.MjData) -> None:
        for b, q, g in zip(self.buttons, self._qadr, self._geom, strict=True):
            if not self.lit[b.name] and data.qpos[q] >= b.trigger_m:
                self.lit[b.name] = True
                self.model.geom_rgba[g] = b.lamp_rgba


Furniture = TypeVar("Furniture", Drawer, Door, Shelf, Button)


def opened_truth(data: mujoco.MjData, furniture: Drawer | Door) -> float:
    """Scoring only (ground truth): how far a drawer is out [m] (0 at its closed stop) or a door
    open [rad]."""
    if isinstance(furniture, Drawer):
        return max(0.0, -float(data.joint(f"{furniture.name}_slide").qpos[0]))
    return max(0.0, float(data.joint(f"{furniture.name}_hinge").qpos[0]))


def towel_points_truth(model: mujoco.MjModel, data: mujoco.MjData, towel: Towel) -> np.ndarray:
    """Scoring only (ground truth): the towel's points (rows along x, columns along y; xyz [m], world)."""
    flex = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_FLEX, towel.name)
    start, n = model.flex_vertadr[flex], model.flex_vertnum[flex]
    return data.flexvert_xpos[start:start + n].reshape(*towel.counts, 3).copy()


def jittered(furniture: Furniture, jitter_m: float, seed: int) -> Furniture:
    """The piece of furniture moved off its nominal place by up to ``jitter_m`` in x and y, drawn
    from ``seed``: where it really stands when the robot is told the nominal place."""
    dx, dy = np.random.default_rng(seed).uniform(-jitter_m, jitter_m, 2)
    return replace(furniture, front_x_m=furniture.front_x_m + float(dx),
                   center_y_m=furniture.center_y_m + float(dy))


@dataclass(frozen=True)
class HoleBlock:
    """A static block standing on a table (or the floor) with a square hole, open at the top, to
    insert a peg into; the hole's rim is chamfered at 45°. ``clearance_m`` is the hole's width less
    the peg's diameter."""

    name: str
    center_xyz_m: tuple[float, float, float]   # the hole's axis at the block's base (world)
    peg_radius_m: float = 0.03
    clearance_m: float = 0.001
    depth_m: float = 0.05
    chamfer_m: float = 0.004           # the chamfer's width (and depth)
    wall_m: float = 0.04               # material around the hole
    friction: float = 0.3              # machined metal: its friction holds in every contact with it

    def __post_init__(self) -> None:
        if min(self.peg_radius_m, self.clearance_m, self.depth_m, self.wall_m) <= 0:
            raise WorldError(f"hole block '{self.name}': peg radius, clearance, depth and wall must be > 0")
        if not 0.0 <= self.chamfer_m < min(self.depth_m, self.wall_m):
            raise WorldError(f"hole block '{self.name}': chamfer_m must be in [0, depth and wall)")

    @property
    def half_width_m(self) -> float:
        """Half the hole's width (m)."""
        return self.peg_radius_m + self.clearance_m / 2

    @property
    def top_z_m(self) -> float:
        return self.center_xyz_m[2] + self.depth_m


@dataclass(frozen=True)
class Thing:
    """A free rigid object (box, cylinder or sphere)."""

    name: str
    shape: str
    size_m: tuple[float, ...]          # box: half sizes (x, y, z); cylinder: (radius, half height); sphere: (radius,)
    mass_kg: float
    pos_m: tuple[float, float, float]  # centre; z is raised to rest on what is below if needed
    yaw_rad: float = 0.0
    rgba: tuple[float, float, float, float] = (0.8, 0.2, 0.2, 1.0)
    friction: float = 0.9
    jitter_m: float = 0.0              # uniform random xy offset drawn from the world seed

    def __post_init__(self) -> None:
        n = {"box": 3, "cylinder": 2, "sphere": 1}.get(self.shape)
        if n is None:
            raise WorldError(f"object '{self.name}': shape '{self.shape}' is unknown; choose one of {SHAPES}")
        if len(self.size_m) != n or min(self.size_m) <= 0 or max(self.size_m) > 2.0:
            raise WorldError(f"object '{self.name}': size_m needs {n} positive values in metres, got {self.size_m}")
        if not 0.0 < self.mass_kg <= 100.0:
            raise WorldError(f"object '{self.name}': mass_kg={self.mass_kg} must be in (0, 100] kg")

    @property
    def half_height_m(self) -> float:
        return self.size_m[-1] if self.shape != "sphere" else self.size_m[0]


@dataclass(frozen=True)
class Towel:
    """A towel lying flat on a table: a grid of point masses ``spacing_m`` apart (MuJoCo flex,
    2-D), its edges along x (depth) and y (width)."""

    name: str
    center_xy_m: tuple[float, float]
    top_z_m: float                      # the height of the table top it lies on
    size_m: tuple[float, float] = (0.14, 0.224)   # depth (x), width (y)
    spacing_m: float = 0.028
    mass_kg: float = 0.06
    thickness_m: float = 0.008
    friction: float = 1.5               # terry cloth against fingers and tables
    bending_Pa: float = 3e4             # Young's modulus of the cloth's bending (shell) stiffness
    rgba: tuple[float, float, float, float] = (0.9, 0.3, 0.3, 1.0)
    self_collide: str = "auto"          # MuJoCo flex self-collision ("none": folded layers pass through each other)
    jitter_m: float = 0.0               # uniform random xy offset drawn from the world seed

    def __post_init__(self) -> None:
        counts = [s / self.spacing_m for s in self.size_m]
        if not 0.005 <= self.spacing_m <= 0.1 or any(abs(c - round(c)) > 1e-6 or round(c) < 2 for c in counts):
            raise WorldError(f"towel '{self.name}': size_m={self.size_m} must be 2 or more spacings of "
                             f"{self.spacing_m} m (spacing in [0.005, 0.1] m) each way")
        if not 0.0 < self.mass_kg <= 2.0 or not 0.0 < self.thickness_m <= 0.03:
            raise WorldError(f"towel '{self.name}': mass_kg must be in (0, 2] kg and thickness_m in (0, 0.03] m")

    @property
    def counts(self) -> tuple[int, int]:
        """Grid points along x and y."""
        return round(self.size_m[0] / self.spacing_m) + 1, round(self.size_m[1] / self.spacing_m) + 1


@dataclass(frozen=True)
class FloorMark:
    """A marked spot on the floor (a painted disc: seen, never touched), e.g. a place in a hall."""

    name: str
    xy_m: tuple[float, float]
    radius_m: float = 0.15
    rgba: tuple[float, float, float, float] = (0.95, 0.75, 0.1, 1.0)


@dataclass(frozen=True)
class WorldSpec:
    """A whole world; ``seed`` drives every random choice in it (rough ground, object jitter)."""

    terrain: Terrain = field(default_factory=Terrain)
    tables: tuple[Table, ...] = ()
    drawers: tuple[Drawer, ...] = ()
    doors: tuple[Door, ...] = ()
    shelves: tuple[Shelf, ...] = ()
    buttons: tuple[Button, ...] = ()
    people: tuple[Mannequin, ...] = ()
    things: tuple[Thing, ...] = ()
    hole_blocks: tuple[HoleBlock, ...] = ()
    towels: tuple[Towel, ...] = ()
    marks: tuple[FloorMark, ...] = ()
    seed: int = 0


def build_world(spec: mujoco.MjSpec, world: WorldSpec) -> None:
    """Add floor, light, terrain, tables, objects, towels and floor marks of ``world`` to ``spec``."""
    rng = np.random.default_rng(world.seed)
    spec.visual.quality.shadowsize = 0      # CPU rendering: no shadows, no multisampling
    spec.visual.quality.offsamples = 0
    grid = spec.add_texture(name="grid", type=mujoco.mjtTexture.mjTEXTURE_2D,
                            builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER, width=300, height=300,
                            rgb1=[0.25, 0.3, 0.35], rgb2=[0.35, 0.4, 0.45])
    mat = spec.add_material(name="grid", texrepeat=[1, 1], reflectance=0.0)
    mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = grid.name
    spec.add_texture(name="sky", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
                     builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT, width=64, height=64,
                     rgb1=[0.6, 0.75, 0.9], rgb2=[0.1, 0.15, 0.2])
    wb = spec.worldbody
    wb.add_light(pos=[0, 0, 4], dir=[0, 0, -1], diffuse=[0.8, 0.8, 0.8], castshadow=False)
    wb.add_light(pos=[3, 3, 4], dir=[-0.5, -0.5, -1], diffuse=[0.4, 0.4, 0.4], castshadow=False)
    t = world.terrain
    _static(wb, name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 0.05],
            material="grid", friction=t.friction)
    if t.kind == "slope":
        _add_slope(wb, t)
    elif t.kind in ("steps", "stairs"):
        _add_steps(wb, t)
    elif t.kind == "rough":
        _add_rough(spec, t, rng)
    elif t.kind == "cross-slope":
        _add_cross_slope(spec, t, rng)
    for table in world.tables:
        _add_table(wb, table)
    for drawer in world.drawers:
        _add_drawer(wb, drawer)
    for door in world.doors:
        _add_door(wb, door)
    for shelf in world.shelves:
        body = wb.add_body(name=shelf.name)
        for name, center, half in shelf.boxes():
            _static(body, name=name, type=mujoco.mjtGeom.mjGEOM_BOX, size=list(half), pos=list(center),
                    rgba=[0.55, 0.6, 0.65, 1])
    for button in world.buttons:
        _add_button(spec, button)
    for person in world.people:
        _add_person(wb, person)
    for block in world.hole_blocks:
        _add_hole_block(wb, block)
    for thing in world.things:
        _add_thing(wb, thing, rng)
    for towel in world.towels:
        _add_towel(wb, towel, rng)
    for mark in world.marks:
        wb.add_geom(name=f"mark_{mark.name}", type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[mark.radius_m, 0.001, 0],
                    pos=[*mark.xy_m, 0.001], rgba=list(mark.rgba), contype=0, conaffinity=0)


def _static(body: mujoco.MjsBody, friction: float = 1.0, **kw: object) -> mujoco.MjsGeom:
    geom = body.add_geom(contype=ENV_CONTYPE, conaffinity=ENV_CONAFFINITY, condim=3, **kw)
    geom.friction = [friction, 0.02, 0.001]
    return geom


def _add_slope(wb: mujoco.MjsBody, t: Terrain) -> None:
    """A ramp rising along +x from ``start_x_m``, then a landing as long as the ramp."""
    a = math.radians(t.slope_deg)
    half_len, half_thick = t.length_m / 2, 0.05
    rise = t.length_m * math.sin(a)
    # box centre so that its top face starts at floor level at start_x
    cx = t.start_x_m + half_len * math.cos(a) + half_thick * math.sin(a)
    cz = half_len * math.sin(a) - half_thick * math.cos(a)
    _static(wb, name="ramp", type=mujoco.mjtGeom.mjGEOM_BOX, size=[half_len, 2.0, half_thick],
            pos=[cx, 0, cz], quat=[math.cos(-a / 2), 0, math.sin(-a / 2), 0],
            rgba=[0.45, 0.5, 0.4, 1], friction=t.friction)
    x_top = t.start_x_m + t.length_m * math.cos(a)
    _static(wb, name="landing", type=mujoco.mjtGeom.mjGEOM_BOX, size=[half_len, 2.0, rise / 2],
            pos=[x_top + half_len, 0, rise / 2], rgba=[0.45, 0.5, 0.4, 1], friction=t.friction)


def _add_steps(wb: mujoco.MjsBody, t: Terrain) -> None:
    """Along +x: ``steps`` one step up onto a platform and one down off it; ``stairs`` a flight of
    ``n_steps`` up to a landing and as many down. Each riser is a box from the floor."""
    n = 1 if t.kind == "steps" else t.n_steps
    x = t.start_x_m
    treads = [t.step_depth_m] * (n - 1) + [t.platform_m] + [t.step_depth_m] * (n - 1)
    heights = [t.step_height_m * (k + 1) for k in range(n)] + [t.step_height_m * (n - 1 - k) for k in range(n - 1)]
    for k, (depth, height) in enumerate(zip(treads, heights, strict=True)):
        _static(wb, name=f"step_{k}", type=mujoco.mjtGeom.mjGEOM_BOX,
                size=[depth / 2, 2.0, height / 2], pos=[x + depth / 2, 0, height / 2],
                rgba=[0.5, 0.45, 0.4, 1], friction=t.friction)
        x += depth


def _add_rough(spec: mujoco.MjSpec, t: Terrain, rng: np.random.Generator) -> None:
    """A seeded heightfield patch of smooth bumps, its edges blended to the floor."""
    n = 64
    half = t.length_m / 2
    coarse = rng.random((9, 9))
    xs = np.linspace(0, 8, n)
    # bilinear upsampling of the coarse grid gives bumps about a quarter metre wide
    rows = np.array([np.interp(xs, np.arange(9), coarse[i]) for i in range(9)])
    heights = np.array([np.interp(xs, np.arange(9), rows[:, j]) for j in range(n)]).T
    edge = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / 6.0)
    heights *= np.outer(edge, edge)
    spec.add_hfield(name="rough", size=[half, half, max(t.rough_amplitude_m, 1e-4), 0.01],
                    nrow=n, ncol=n, userdata=heights.ravel().tolist())
    _static(spec.worldbody, name="rough", type=mujoco.mjtGeom.mjGEOM_HFIELD, hfieldname="rough",
            pos=[t.start_x_m + half, 0, 0], rgba=[0.45, 0.4, 0.35, 1], friction=t.friction)


def _add_cross_slope(spec: mujoco.MjSpec, t: Terrain, rng: np.random.Generator) -> None:
    """A hillside along the way: for ``length_m`` the ground inclines ``slope_deg`` across it,
    rising from the floor at ``CROSS_FOOT_M`` to the right of the way toward the left (or mirrored:
    seeded), so that the feet stand at different heights on one tilted plane; it twists in from
    the level floor over ``CROSS_BLEND_M`` before and back out over as much after. A heightfield
    1.2 m wide."""
    width, cell = 1.2, 0.02
    total = t.length_m + 2 * CROSS_BLEND_M
    cols, rows = int(round(total / cell)) + 1, int(round(width / cell)) + 1
    x = np.linspace(0.0, total, cols)
    y = np.linspace(-width / 2, width / 2, rows) * (1.0 if rng.random() < 0.5 else -1.0)
    blend = np.clip(np.minimum(x, total - x) / CROSS_BLEND_M, 0.0, 1.0)
    top = (width / 2 - CROSS_FOOT_M) * math.tan(math.radians(t.slope_deg))
    across = np.clip((y - CROSS_FOOT_M) / (width / 2 - CROSS_FOOT_M), 0.0, 1.0)
    heights = np.outer(across, blend)                     # rows along y, columns along x; in [0, 1]
    spec.add_hfield(name="cross_slope", size=[total / 2, width / 2, max(top, 1e-4), 0.01],
                    nrow=rows, ncol=cols, userdata=heights.ravel().tolist())
    _static(spec.worldbody, name="cross_slope", type=mujoco.mjtGeom.mjGEOM_HFIELD, hfieldname="cross_slope",
            pos=[t.start_x_m + total / 2, 0, 0], rgba=[0.45, 0.5, 0.4, 1], friction=t.friction)


def _add_table(wb: mujoco.MjsBody, table: Table) -> None:
    lx, ly = table.top_size_m
    body = wb.add_body(name=table.name, pos=[*table.center_xy_m, 0],
                       quat=[math.cos(table.yaw_rad / 2), 0, 0, math.sin(table.yaw_rad / 2)])
    top = 0.03
    _static(body, name=f"{table.name}_top", type=mujoco.mjtGeom.mjGEOM_BOX,
            size=[lx / 2, ly / 2, top / 2], pos=[0, 0, table.height_m - top / 2], rgba=[0.6, 0.45, 0.3, 1])
    for sx in (-1, 1):
        for sy in (-1, 1):
            _static(body, type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.025, 0.025, (table.height_m - top) / 2],
                    pos=[sx * (lx / 2 - 0.04), sy * (ly / 2 - 0.04), (table.height_m - top) / 2],
                    rgba=[0.4, 0.3, 0.2, 1])


def _carcass(wb: mujoco.MjsBody, name: str, front_x_m: float, center_y_m: float, depth_m: float, width_m: float,
             top_z_m: float, base_h_m: float, rgba: list[float]) -> mujoco.MjsBody:
    """A static cabinet open at the front (-x): top, back, sides, and a base block ``base_h_m`` high.
    Its body's origin is at the middle of its footprint, on the floor."""
    wall, hx, hy, z = 0.02, depth_m / 2, width_m / 2, top_z_m / 2
    cabinet = wb.add_body(name=name + "_cabinet", pos=[front_x_m + hx, center_y_m, 0])
    for part, size, pos in (("top", [hx, hy, wall / 2], [0, 0, top_z_m - wall / 2]),
                            ("back", [wall / 2, hy, z], [hx - wall / 2, 0, z]),
                            ("left", [hx, wall / 2, z], [0, hy - wall / 2, z]),
                            ("right", [hx, wall / 2, z], [0, -hy + wall / 2, z]),
                            ("base", [hx, hy, base_h_m / 2], [0, 0, base_h_m / 2])):
        _static(cabinet, name=f"{name}_{part}", type=mujoco.mjtGeom.mjGEOM_BOX, size=size, pos=pos, rgba=rgba)
    return cabinet


Part = tuple[str, int, list[float], list[float]]   # name, geom type, size, position in the moving body


def _handle(front_x_m: float, y_m: float, z_m: float, gap_m: float, radius_m: float, length_m: float) -> list[Part]:
    """A horizontal bar along y, ``gap_m`` clear of the front face at ``front_x_m`` (toward -x), on
    two posts; centred at (y_m, z_m)."""
    gap = gap_m + radius_m
    box = mujoco.mjtGeom.mjGEOM_BOX
    posts: list[Part] = [(f"post{k}", box, [gap / 2, 0.008, 0.008], [front_x_m - gap / 2, y_m + sy * length_m / 2, z_m])
                         for k, sy in enumerate((-1, 1))]
    return [*posts, ("handle", mujoco.mjtGeom.mjGEOM_CAPSULE, [radius_m, length_m / 2, 0], [front_x_m - gap, y_m, z_m])]


def _add_parts(body: mujoco.MjsBody, name: str, parts: list[Part], mass_kg: float, rgba: list[float],
               handle_rgba: tuple[float, ...]) -> None:
    """The geoms of a moving part, its mass shared among them; the handle bar in its own colour."""
    for part, kind, size, pos in parts:
        geom = body.add_geom(name=f"{name}_{part}", type=kind, size=size, pos=pos, mass=mass_kg / len(parts),
                             rgba=rgba if part != "handle" else list(handle_rgba),
                             contype=ENV_CONTYPE, conaffinity=ENV_CONAFFINITY, condim=3)
        if part == "handle":
            geom.quat = [math.cos(math.pi / 4), math.cos(math.pi / 4), 0, 0]   # capsule axis along y
        geom.friction = [0.8, 0.01, 0.001]


def _add_drawer(wb: mujoco.MjsBody, d: Drawer) -> None:
    """Carcass (static) with the drawer as its child body: parent and child do not collide, the
    rail alone guides the drawer."""
    wall, front_h = 0.02, 0.16
    top_z = d.handle_height_m + front_h / 2 + wall
    hx, hy = d.depth_m / 2, d.width_m / 2
    cabinet = _carcass(wb, d.name, d.front_x_m, d.center_y_m, d.depth_m, d.width_m, top_z, top_z - front_h - wall,
                       [0.55, 0.5, 0.45, 1])
    drawer = cabinet.add_body(name=d.name, pos=[0, 0, d.handle_height_m])
    drawer.add_joint(name=d.name + "_slide", type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[1, 0, 0],
                     range=[-d.travel_m, 0.0], limited=mujoco.mjtLimited.mjLIMITED_TRUE,
                     damping=d.damping_Ns_m, frictionloss=d.friction_N)
    inner_y = hy - wall - 0.005
    box = mujoco.mjtGeom.mjGEOM_BOX
    parts: list[Part] = [("front", box, [wall / 2, inner_y, front_h / 2 - 0.005], [-hx + wall / 2, 0, 0]),
                         ("floor", box, [hx - wall, inner_y, 0.005], [0, 0, -front_h / 2 + 0.01]),
                         ("rear", box, [0.005, inner_y, front_h / 3], [hx - 2 * wall, 0, -front_h / 6])]
    parts += _handle(-hx, 0.0, 0.0, d.handle_gap_m, d.handle_radius_m, d.handle_length_m)
    _add_parts(drawer, d.name, parts, d.mass_kg, [0.7, 0.65, 0.55, 1], d.handle_rgba)


def _add_door(wb: mujoco.MjsBody, d: Door) -> None:
    """Carcass (static, open at the front) with the door as its child body: parent and child do not
    collide, the hinge alone guides the door."""
    t = DOOR_THICKNESS_M
    top_z = d.handle_height_m + 0.15
    hx, hy = d.depth_m / 2, d.width_m / 2
    cabinet = _carcass(wb, d.name, d.front_x_m, d.center_y_m, d.depth_m, d.width_m, top_z, 0.1,
                       [0.85, 0.85, 0.82, 1])
    # the door's frame sits on the hinge axis: its panel spans -y from there
    door = cabinet.add_body(name=d.name, pos=[-hx - t, hy, 0])
    door.add_joint(name=d.name + "_hinge", type=mujoco.mjtJoint.mjJNT_HINGE, axis=[0, 0, -1],
                   range=[0.0, d.max_open_rad], limited=mujoco.mjtLimited.mjLIMITED_TRUE,
                   damping=d.damping_Nms_rad, frictionloss=d.friction_Nm)
    panel_h = top_z - 0.1
    parts: list[Part] = [("panel", mujoco.mjtGeom.mjGEOM_BOX, [t / 2, hy - 0.002, panel_h / 2],
                          [t / 2, -hy, 0.1 + panel_h / 2])]
    parts += _handle(0.0, -d.width_m + d.handle_inset_m, d.handle_height_m, d.handle_gap_m, d.handle_radius_m,
                     d.handle_length_m)
    _add_parts(door, d.name, parts, d.mass_kg, [0.9, 0.9, 0.88, 1], d.handle_rgba)


def _add_button(spec: mujoco.MjSpec, b: Button) -> None:
    """Panel and post (static), the cap as a body sliding in along +x on its spring (through the
    panel: the two do not collide), the lamp."""
    wb, box, t = spec.worldbody, mujoco.mjtGeom.mjGEOM_BOX, 0.03
    top = b.height_m + b.lamp_above_m + b.lamp_radius_m + 0.02
    bottom = b.height_m - b.cap_radius_m - 0.03
    panel = wb.add_body(name=f"{b.name}_panel", pos=[b.front_x_m + t / 2, b.center_y_m, 0])
    rgba = [0.7, 0.72, 0.75, 1]
    _static(panel, name=f"{b.name}_face", type=box, size=[t / 2, b.cap_radius_m + 0.04, (top - bottom) / 2],
            pos=[0, 0, (top + bottom) / 2], rgba=rgba)
    _static(panel, name=f"{b.name}_post", type=box, size=[0.02, 0.02, bottom / 2], pos=[0.01, 0, bottom / 2],
            rgba=rgba)
    along_x = [math.cos(math.pi / 4), 0, math.sin(math.pi / 4), 0]   # a cylinder's axis along x
    panel.add_geom(name=f"{b.name}_lamp", type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[b.lamp_radius_m, 0.0015, 0],
                   pos=[-t / 2 - 0.0015, 0, b.height_m + b.lamp_above_m], quat=along_x, rgba=list(LAMP_OFF_RGBA),
                   contype=0, conaffinity=0)
    cap = panel.add_body(name=b.name, pos=[-t / 2 - b.cap_out_m / 2, 0, b.height_m])
    cap.add_joint(name=f"{b.name}_press", type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[1, 0, 0],
                  range=[0.0, b.travel_m], limited=mujoco.mjtLimited.mjLIMITED_TRUE,
                  stiffness=b.spring_N_m, damping=2.0)
    geom = cap.add_geom(name=f"{b.name}_cap", type=mujoco.mjtGeom.mjGEOM_CYLINDER,
                        size=[b.cap_radius_m, b.cap_out_m / 2, 0], quat=along_x, mass=0.02, rgba=list(b.cap_rgba),
                        contype=ENV_CONTYPE, conaffinity=ENV_CONAFFINITY, condim=3)
    geom.friction = [0.8, 0.01, 0.001]
    spec.add_exclude(bodyname1=panel.name, bodyname2=cap.name)


def _add_person(wb: mujoco.MjsBody, p: Mannequin) -> None:
    """Legs, body and head as capsules and a sphere; the arm a capsule from the shoulder to the
    palm, a thin box."""
    capsule = mujoco.mjtGeom.mjGEOM_CAPSULE
    body = wb.add_body(name=p.name, pos=[*p.xy_m, 0])
    hip, shoulder, head_r = 0.5 * p.height_m, 0.82 * p.height_m, 0.1
    skin = [0.8, 0.7, 0.62, 1]                   # not vivid: the camera takes it for no object
    clothes = list(p.clothes_rgba)
    for sy in (-1, 1):
        _static(body, type=capsule, fromto=[0, sy * 0.09, 0.06, 0, sy * 0.09, hip], size=[0.065, 0, 0], rgba=clothes)
    _static(body, name=f"{p.name}_body", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.11, 0.18, (shoulder - hip) / 2],
            pos=[0, 0, (hip + shoulder) / 2], rgba=clothes)
    _static(body, type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[head_r, 0, 0], pos=[0, 0, p.height_m - head_r], rgba=skin)
    palm = np.array(p.palm_xyz_m) - [*p.xy_m, 0.0]          # in the body's frame
    side = 1.0 if palm[1] >= 0 else -1.0
    wrist = palm + [0.06, 0.0, -0.02]                          # the forearm meets the palm at its far edge
    _static(body, type=capsule, fromto=[0, side * 0.2, shoulder - 0.05, *wrist], size=[0.04, 0, 0], rgba=skin)
    hx, hy = p.palm_size_m[0] / 2, p.palm_size_m[1] / 2
    _static(body, name=f"{p.name}_palm", type=mujoco.mjtGeom.mjGEOM_BOX, size=[hx, hy, 0.01],
            pos=list(palm - [0.0, 0.0, 0.01]), rgba=list(p.glove_rgba), friction=p.friction)


def _add_hole_block(wb: mujoco.MjsBody, b: HoleBlock) -> None:
    """Four walls around the hole, their top inner edge cut by a 45° chamfer plate, on a base."""
    box = mujoco.mjtGeom.mjGEOM_BOX
    body = wb.add_body(name=b.name, pos=list(b.center_xyz_m))
    rgba = [0.55, 0.6, 0.65, 1]
    w, c, d, t = b.half_width_m, b.chamfer_m, b.depth_m, b.wall_m
    kw = {"friction": b.friction, "priority": 1}   # its friction, not the larger of the pair (MuJoCo's default)
    outer = w + t
    _static(body, name=f"{b.name}_base", type=box, size=[outer, outer, 0.005], pos=[0, 0, -0.005], rgba=rgba, **kw)
    for k in range(4):                      # wall k lies beyond the hole along direction k * 90°
        yaw = k * math.pi / 2
        quat = [math.cos(yaw / 2), 0, 0, math.sin(yaw / 2)]
        R = np.array([[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]])

        def at(x: float, z: float, R: np.ndarray = R) -> list[float]:
            return [*(R @ np.array([x, 0.0])), z]

        # each wall spans the full outer width; neighbours overlap in the corners
        _static(body, name=f"{b.name}_wall{k}", type=box, size=[t / 2, outer, (d - c) / 2],
                pos=at(w + t / 2, (d - c) / 2), quat=quat, rgba=rgba, **kw)
        if c > 0:
            _static(body, name=f"{b.name}_rim{k}", type=box, size=[(t - c) / 2, outer, c / 2],
                    pos=at(w + c + (t - c) / 2, d - c / 2), quat=quat, rgba=rgba, **kw)
            # the chamfer: a plate whose inner face runs from (w, d - c) up to (w + c, d), at 45°
            half_len, half_thick = c * math.sqrt(2) / 2, c / 2
            n = np.array([-1.0, 1.0]) / math.sqrt(2)            # the face's normal (x, z), into the hole
            mid = np.array([w + c / 2, d - c / 2]) - n * half_thick
            pitch = -math.pi / 4                                 # plate's long axis along (1, 1)
            q_pitch = np.array([math.cos(pitch / 2), 0, math.sin(pitch / 2), 0])
            q = np.zeros(4)
            mujoco.mju_mulQuat(q, np.array(quat), q_pitch)
            _static(body, name=f"{b.name}_chamfer{k}", type=box, size=[half_len, w + c, half_thick],
                    pos=at(mid[0], mid[1]), quat=q.tolist(), rgba=rgba, **kw)


def _jitter_xy(rng: np.random.Generator, jitter_m: float) -> tuple[float, float]:
    """A uniform random xy offset of up to ``jitter_m`` [m] (no draw when it is 0)."""
    return tuple(rng.uniform(-jitter_m, jitter_m, 2)) if jitter_m else (0.0, 0.0)


def _add_thing(wb: mujoco.MjsBody, thing: Thing, rng: np.random.Generator) -> None:
    dx, dy = _jitter_xy(rng, thing.jitter_m)
    x, y, z = thing.pos_m
    body = wb.add_body(name=thing.name, pos=[x + dx, y + dy, z],
                       quat=[math.cos(thing.yaw_rad / 2), 0, 0, math.sin(thing.yaw_rad / 2)])
    body.add_freejoint(name=thing.name)
    kind = {"box": mujoco.mjtGeom.mjGEOM_BOX, "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER,
            "sphere": mujoco.mjtGeom.mjGEOM_SPHERE}[thing.shape]
    size = list(thing.size_m) + [0.0] * (3 - len(thing.size_m))
    geom = body.add_geom(name=thing.name, type=kind, size=size, mass=thing.mass_kg,
                         rgba=list(thing.rgba), contype=ENV_CONTYPE, conaffinity=ENV_CONAFFINITY,
                         condim=4)
    geom.friction = [thing.friction, 0.01, 0.001]


def _add_towel(wb: mujoco.MjsBody, towel: Towel, rng: np.random.Generator) -> None:
    """The towel's flex, written as an MJCF ``flexcomp`` (MjSpec has no flexcomp of its own) and
    attached: the flex is named ``name``, its points are bodies ``{name}_{name}_{i}``."""
    dx, dy = _jitter_xy(rng, towel.jitter_m)
    nx, ny, r, s = *towel.counts, towel.thickness_m / 2, towel.spacing_m
    xml = (f'<mujoco><worldbody><flexcomp name="{towel.name}" type="grid" count="{nx} {ny} 1" spacing="{s} {s} {s}" '
           f'radius="{r}" dim="2" mass="{towel.mass_kg}" rgba="{" ".join(map(str, towel.rgba))}">'
           '<edge equality="true" damping="0.002"/>'
           f'<contact condim="3" solref="0.005 1" selfcollide="{towel.self_collide}" contype="{ENV_CONTYPE}" '
           f'conaffinity="{ENV_CONAFFINITY}" friction="{towel.friction} 0.005 0.0001"/>'
           f'<elasticity young="{towel.bending_Pa}" poisson="0.2" thickness="{towel.thickness_m}" '
           'elastic2d="bend"/></flexcomp></worldbody></mujoco>')
    cloth = mujoco.MjSpec.from_string(xml)
    frame = wb.add_frame(pos=[towel.center_xy_m[0] + dx, towel.center_xy_m[1] + dy, towel.top_z_m + r + 0.001])
    frame.attach_body(cloth.worldbody, f"{towel.name}_", "")

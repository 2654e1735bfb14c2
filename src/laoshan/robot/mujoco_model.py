"""Build the MuJoCo model of a robot from its URDF and description with ``MjSpec``.

The URDF's links, inertias and collision meshes are kept as they are. On top, from the
description and the catalog: a free base joint, one torque motor per commanded joint (the driver
law runs in :class:`laoshan.components.actuator.ActuatorBank`), rotor inertia and reducer friction
on each joint, sole contact spheres, and sites + sensors for the IMU, foot pads, touch pads and
cameras. Robot geoms collide with the world and objects, not with each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from laoshan.robot.description import RobotConfigError, RobotDescription, example_robot_data_dir

# Collision bit masks (MuJoCo collides a pair when contype of one & conaffinity of the other):
# robot geoms touch the environment (floor, terrain, furniture, objects) but not each other; in a
# world of several robots each robot has its own bit, so that robots touch one another (see
# robot_collision_bits).
ROBOT_CONTYPE, ROBOT_CONAFFINITY = 2, 1
ENV_CONTYPE, ENV_CONAFFINITY = 3, 3
MAX_ROBOTS = 29           # one contype bit each, above the environment's bit 0


def robot_collision_bits(index: int, count: int) -> tuple[int, int]:
    """(contype, conaffinity) of the geoms of robot ``index`` of ``count`` in one world: the
    environment and the other robots, never itself (one robot: ROBOT_CONTYPE, ROBOT_CONAFFINITY)."""
    if not 0 <= index < count <= MAX_ROBOTS:
        raise ValueError(f"robot {index} of {count}: a world holds 1 to {MAX_ROBOTS} robots")
    others = sum(1 << (1 + j) for j in range(count) if j != index)
    return 1 << (1 + index), ROBOT_CONAFFINITY | others


def set_physics_options(spec: mujoco.MjSpec, physics_dt_s: float) -> None:
    """The simulator's physics settings on ``spec`` (the world's: a robot attached to another
    spec brings none of its own)."""
    spec.option.timestep = physics_dt_s
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.impratio = 10.0   # stiffer friction: grasped objects and soles do not creep
    spec.visual.global_.offwidth = 1280
    spec.visual.global_.offheight = 720

SOLE_PAD_MARGIN_M = 0.02    # the foot force pad extends this far around the sole spheres
LIMB_STOP_TIMECONST_S = 0.002   # MuJoCo limit constraint time constant of the limbs' joint stops (default 0.02: they
                                # gave 0.1-0.2 rad under a motor's peak torque)


@dataclass(frozen=True)
class SensorNames:
    """Names of the MuJoCo sensors/sites/cameras the simulator reads, per description item."""

    imu_quat: str = "imu_quat"
    imu_gyro: str = "imu_gyro"
    imu_accel: str = "imu_accel"

    @staticmethod
    def foot(side: str) -> str:
        return f"foot_force_{side}"

    @staticmethod
    def touch(name: str) -> str:
        return f"touch_{name}"


def _urdf_with_compiler(desc: RobotDescription) -> str:
    """The URDF text made loadable by MuJoCo: ``package://example-robot-data/`` mesh paths become
    absolute, other relative paths resolve from the URDF's folder, and no link is fused away."""
    text = desc.urdf_path.read_text()
    text = text.replace("package://example-robot-data/robots/", f"{example_robot_data_dir()}/")
    if "package://" in text:
        start = text.index("package://")
        raise RobotConfigError(
            f"urdf: {desc.urdf_path.name} refers to '{text[start:text.find(chr(34), start)]}'; only "
            "package://example-robot-data/ and paths relative to the URDF are resolved")
    start = text.find("<robot")
    if start < 0:
        raise RobotConfigError(f"urdf: {desc.urdf_path} has no <robot> element")
    head_end = text.index(">", start) + 1
    compiler = (f'<mujoco><compiler meshdir="{desc.urdf_path.parent}" discardvisual="false" '
                'fusestatic="false" strippath="false" balanceinertia="false"/></mujoco>')
    return text[:head_end] + compiler + text[head_end:]


def build_robot_spec(desc: RobotDescription, physics_dt_s: float,
                     collision_bits: tuple[int, int] = (ROBOT_CONTYPE, ROBOT_CONAFFINITY)) -> mujoco.MjSpec:
    """An ``MjSpec`` holding the robot (no floor or world yet); compile after adding the world.
    ``collision_bits``: its geoms' (contype, conaffinity), see :func:`robot_collision_bits`."""
    spec = mujoco.MjSpec.from_string(_urdf_with_compiler(desc))
    spec.modelname = desc.name
    set_physics_options(spec, physics_dt_s)

    base = spec.body(desc.base_link)
    if base is None:
        raise RobotConfigError(f"base_link: '{desc.base_link}' is not a body of {desc.urdf_path.name}")
    base.add_freejoint(name="floating_base")

    for geom in spec.geoms:
        if geom.contype or geom.conaffinity:  # a collision geom of the URDF
            geom.contype, geom.conaffinity = collision_bits
            geom.condim = 3

    hands = {h.link for h in desc.hands.values()}
    for motor, part in zip(desc.motors, desc.motor_specs(), strict=True):
        joint = spec.joint(motor.joint)
        if not _below(joint.parent, hands):      # a limb's mechanical stop: stiff (a finger's gives, as Dex3's do)
            joint.solref_limit = [LIMB_STOP_TIMECONST_S, 1.0]
        joint.armature = part.armature_kgm2
        joint.frictionloss = part.coulomb_friction_Nm
        joint.damping = part.viscous_damping_Nms
        act = spec.add_actuator(name=motor.joint, target=motor.joint,
                                trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.gainprm[0] = 1.0  # the driver law in affine form: force = ctrl + bias1 q + bias2 dq
        act.biastype = mujoco.mjtBias.mjBIAS_AFFINE
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-part.peak_torque_Nm, part.peak_torque_Nm]

    _add_feet(spec, desc, collision_bits)
    _add_imu(spec, desc)
    if desc.touch:
        compiled = spec.compile()  # mesh bounding boxes are only known once compiled
        for pad in desc.touch:
            _add_touch_pad(spec, compiled, pad.link, SensorNames.touch(pad.name))
    for cam in desc.cameras:
        _add_camera(spec, desc, cam.name, cam.link, cam.part)
    return spec


def _below(body: mujoco.MjsBody, names: set[str]) -> bool:
    """Whether ``body`` is one of the bodies ``names`` or hangs below one of them."""
    while body is not None and body.name != "world":
        if body.name in names:
            return True
        body = body.parent
    return False


def _add_feet(spec: mujoco.MjSpec, desc: RobotDescription, collision_bits: tuple[int, int]) -> None:
    for side, foot in desc.feet.items():
        body = spec.body(foot.link)
        for geom in list(body.geoms):  # the sole spheres replace the URDF's foot collision
            if geom.contype:
                spec.delete(geom)
        points = np.array(foot.sole_points_m)
        for k, p in enumerate(points):
            body.add_geom(name=f"sole_{side}_{k}", type=mujoco.mjtGeom.mjGEOM_SPHERE,
                          size=[foot.sole_radius_m, 0, 0], pos=p, contype=collision_bits[0],
                          conaffinity=collision_bits[1], condim=3, friction=[1.0, 0.02, 0.001],
                          rgba=[0.8, 0.3, 0.1, 1.0], group=3)
        lo, hi = points.min(axis=0), points.max(axis=0)
        half = (hi - lo) / 2 + SOLE_PAD_MARGIN_M
        body.add_site(name=SensorNames.foot(side), type=mujoco.mjtGeom.mjGEOM_BOX,
                      pos=(lo + hi) / 2, size=half, group=4)
        spec.add_sensor(name=SensorNames.foot(side), type=mujoco.mjtSensor.mjSENS_TOUCH,
                        objtype=mujoco.mjtObj.mjOBJ_SITE, objname=SensorNames.foot(side))


def _add_imu(spec: mujoco.MjSpec, desc: RobotDescription) -> None:
    body = spec.body(desc.imu.link)
    body.add_site(name="imu", group=4)
    n = SensorNames()
    for name, kind in ((n.imu_quat, mujoco.mjtSensor.mjSENS_FRAMEQUAT),
                       (n.imu_gyro, mujoco.mjtSensor.mjSENS_GYRO),
                       (n.imu_accel, mujoco.mjtSensor.mjSENS_ACCELEROMETER)):
        spec.add_sensor(name=name, type=kind, objtype=mujoco.mjtObj.mjOBJ_SITE, objname="imu")


def _add_touch_pad(spec: mujoco.MjSpec, tmp: mujoco.MjModel, link: str, name: str) -> None:
    """A touch pad covering the link's collision meshes (bounding box, a little enlarged)."""
    body = spec.body(link)
    bid = tmp.body(link).id
    geoms = [g for g in range(tmp.ngeom) if tmp.geom_bodyid[g] == bid and tmp.geom_contype[g]]
    if not geoms:
        raise RobotConfigError(f"touch: link '{link}' has no collision geometry for a pad")
    corners = []
    for g in geoms:
        centre, half = tmp.geom_aabb[g][:3], tmp.geom_aabb[g][3:]
        mat = np.zeros(9)
        mujoco.mju_quat2Mat(mat, tmp.geom_quat[g])
        for signs in np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1])).reshape(3, -1).T:
            corners.append(tmp.geom_pos[g] + mat.reshape(3, 3) @ (centre + half * signs))
    corners = np.array(corners)
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    body.add_site(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, pos=(lo + hi) / 2,
                  size=(hi - lo) / 2 + 0.002, group=4)
    spec.add_sensor(name=name, type=mujoco.mjtSensor.mjSENS_TOUCH,
                    objtype=mujoco.mjtObj.mjOBJ_SITE, objname=name)


def _add_camera(spec: mujoco.MjSpec, desc: RobotDescription, name: str, link: str, part: str) -> None:
    """A camera looking along the mount link's +x axis, image up along the link's +z."""
    cam_spec = desc.catalog.get("camera", part)
    body = spec.body(link)
    # MuJoCo cameras look along their -z with +y up: rotate link axes (x fwd, z up) onto that.
    body.add_camera(name=name, fovy=cam_spec.vertical_fov_deg,
                    quat=[0.5, 0.5, -0.5, -0.5])

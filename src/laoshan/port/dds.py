"""The robot port over DDS: the G1's ``unitree_hg`` topics, as Unitree's SDK and simulators use them.

Topics: ``rt/lowcmd`` (``LowCmd_``) and ``rt/lowstate`` (``LowState_``) for the body,
``rt/dex3/left|right/cmd|state`` (``HandCmd_``/``HandState_``) for the Dex3 hands, and Laoshan's
own (:mod:`laoshan.port.extra_topics`) for sole forces, the battery and camera frames. DDS domain
and network interface as Unitree's SDK sets them up (domain 1 on ``lo`` is its simulator's).

:class:`DdsPort` is the client side (a controller driving a robot); :class:`RobotEndpoint` is the
robot side (what a simulator serving the topics publishes and reads). Writers use the default
QoS (as the SDK's do); readers are best effort keeping the newest sample, so a slow reader skips
samples instead of queueing them.
"""

import time
from dataclasses import dataclass
from typing import Any

from cyclonedds._clayer import ddspy_take
from cyclonedds.core import DDSException, InstanceState, Qos, ReadCondition, SampleState, ViewState, WaitSet
from cyclonedds.domain import Domain, DomainParticipant
from cyclonedds.pub import DataWriter
from cyclonedds.qos import Policy
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration

from laoshan.port import unitree_hg as hg
from laoshan.port.base import PortLost
from laoshan.port.codec import (CrcMismatch, MotorLayout, decode_cmd, decode_frame, decode_state, encode_cmd,
                                encode_frame, encode_state)
from laoshan.port.extra_topics import CAMERA_TOPIC, SENSORS_TOPIC, STREAM_TOPIC, CameraStream_, RgbdFrame_, Sensors_
from laoshan.port.messages import LowCmd, LowState, RgbdFrame
from laoshan.robot.description import RobotDescription

LOW_CMD_TOPIC, LOW_STATE_TOPIC = "rt/lowcmd", "rt/lowstate"
HAND_CMD_TOPIC, HAND_STATE_TOPIC = "rt/dex3/{side}/cmd", "rt/dex3/{side}/state"

_CONFIG_XML = """<?xml version="1.0" encoding="UTF-8" ?>
<CycloneDDS><Domain Id="any"><General><Interfaces>
  <NetworkInterface name="{interface}" priority="default" multicast="default"/>
</Interfaces></General></Domain></CycloneDDS>"""
_NEWEST = Qos(Policy.Reliability.BestEffort, Policy.History.KeepLast(1))
_EVERY = Qos(Policy.Reliability.Reliable(duration(milliseconds=100)), Policy.History.KeepLast(16))


@dataclass(frozen=True)
class DdsConfig:
    """Where the robot's topics are: DDS domain and network interface (Unitree's simulator: 1, ``lo``)."""

    domain: int = 1
    interface: str = "lo"
    state_timeout_s: float = 1.0     # no LowState_ this long: the robot is lost (PortLost)
    connect_timeout_s: float = 10.0  # ... and before the first one

    def __post_init__(self) -> None:
        if not 0 <= self.domain <= 232:
            raise ValueError(f"DDS domain must be 0..232, got {self.domain}")
        if not self.interface or any(c in self.interface for c in "<>&\"'"):
            raise ValueError(f"not a network interface name: {self.interface!r}")


_domains: dict[tuple[int, str], tuple[Domain, DomainParticipant]] = {}


def participant(config: DdsConfig) -> DomainParticipant:
    """The process's participant in ``config``'s domain on its interface (one per domain, kept)."""
    key = (config.domain, config.interface)
    if key not in _domains:
        domain = Domain(config.domain, _CONFIG_XML.format(interface=config.interface))
        _domains[key] = (domain, DomainParticipant(config.domain))
    return _domains[key][1]


class _Reader:
    """A reader that hands out the newest sample (best effort unless ``qos`` says otherwise)."""

    def __init__(self, dp: DomainParticipant, name: str, kind: Any, qos: Qos = _NEWEST) -> None:
        self.reader = DataReader(dp, Topic(dp, name, kind), qos=qos)
        self.condition = ReadCondition(self.reader, ViewState.Any | InstanceState.Alive | SampleState.NotRead)
        self.waitset = WaitSet(dp)
        self.waitset.attach(self.condition)
        self.latest: Any = None

    def poll(self) -> Any:
        """The newest sample that came since the last poll, or None; ``latest`` keeps the newest ever."""
        samples = self.take()
        if samples:
            self.latest = samples[-1]
        return samples[-1] if samples else None

    def take(self) -> list[Any]:
        """Every sample that came since the last call, oldest first."""
        return self.reader.take(N=16, condition=self.condition)

    def wait(self, timeout_s: float) -> Any:
        """The next sample, waiting up to ``timeout_s``; None if none came."""
        sample = self.poll()
        if sample is None and self.waitset.wait(duration(seconds=timeout_s)) > 0:
            sample = self.poll()
        return sample


class _RawReader(_Reader):
    """A reader that hands out each sample's serialized bytes (decoded by :mod:`laoshan.port.cdr`)."""

    def take(self) -> list[Any]:
        taken = ddspy_take(self.reader._ref, self.condition.mask, 16)
        if isinstance(taken, int):
            raise DDSException(taken, f"taking from {self.reader}")
        return [bytes(data) for data, info in taken if info.valid_data]


def _writer(dp: DomainParticipant, name: str, kind: Any) -> DataWriter:
    return DataWriter(dp, Topic(dp, name, kind))


_PREPACKED: dict[type, type] = {}


def _prepacked(kind: type, payload: bytes) -> Any:
    """A sample of ``kind`` for ``DataWriter.write`` whose serialized form is ``payload`` (packed by
    :mod:`laoshan.port.cdr`), so that cyclonedds does not rebuild it field by field."""
    if kind not in _PREPACKED:
        _PREPACKED[kind] = type(f"Prepacked{kind.__name__}", (kind,), {
            "serialize": lambda self, buffer=None, endianness=None, use_version_2=None: self.payload})
    sample = object.__new__(_PREPACKED[kind])
    sample.payload = payload
    return sample


@dataclass
class LinkStats:
    """What the client's link to the robot did."""

    states: int = 0            # LowState_ samples decoded
    missed_ticks: int = 0      # robot ticks whose state the client never saw (it was late)
    crc_errors: int = 0        # states dropped for a CRC that does not match (or malformed)
    commands: int = 0          # LowCmd_ samples sent


class DdsPort:
    """A robot on DDS, as a :class:`laoshan.port.base.RobotPort`: ``step`` sends the command and
    waits for the robot's next state (the robot's 500 Hz clock paces the loop)."""

    realtime = True

    def __init__(self, robot: RobotDescription, config: DdsConfig | None = None, control_dt_s: float | None = None):
        self.robot, self.config = robot, config or DdsConfig()
        self._dt = control_dt_s or robot.catalog.get("controller", robot.controller).control_dt_s
        self.layout = MotorLayout.of(robot)
        dp = participant(self.config)
        self._state = _RawReader(dp, LOW_STATE_TOPIC, hg.LowState_)
        self._hands = {side: _Reader(dp, HAND_STATE_TOPIC.format(side=side), hg.HandState_)
                       for side in self.layout.hands}
        self._sensors = _Reader(dp, SENSORS_TOPIC, Sensors_)
        self._cameras = {c.name: _Reader(dp, CAMERA_TOPIC.format(name=c.name), RgbdFrame_) for c in robot.cameras}
        self._cmd = _writer(dp, LOW_CMD_TOPIC, hg.LowCmd_)
        self._hand_cmd = {side: _writer(dp, HAND_CMD_TOPIC.format(side=side), hg.HandCmd_)
                          for side in self.layout.hands}
        self._stream = _writer(dp, STREAM_TOPIC, CameraStream_)
        self._frames: dict[str, RgbdFrame] = {}
        self._streaming = False
        self.stats = LinkStats()
        self._tick: int | None = None
        self.last: LowState | None = None

    @property
    def control_dt_s(self) -> float:
        return self._dt

    @property
    def time_s(self) -> float:
        return self.last.time_s if self.last is not None else 0.0

    @property
    def streaming(self) -> bool:
        return self._streaming

    @streaming.setter
    def streaming(self, on: bool) -> None:
        if on != self._streaming:
            for cam in self.robot.cameras:
                self._stream.write(CameraStream_(camera=cam.name, on=int(on)))
        self._streaming = on

    def first_state(self) -> LowState:
        """Wait for the robot's first state (raises PortLost after ``connect_timeout_s``)."""
        return self.step(None, self.config.connect_timeout_s)

    def step(self, cmd: LowCmd | None, timeout_s: float | None = None) -> LowState:
        """Send ``cmd`` and wait (up to ``timeout_s``, default ``state_timeout_s``) for the next state."""
        timeout_s = self.config.state_timeout_s if timeout_s is None else timeout_s
        if cmd is not None:
            body, hands = encode_cmd(cmd, self.layout)
            self._cmd.write(_prepacked(hg.LowCmd_, body))
            for side, msg in hands.items():
                self._hand_cmd[side].write(msg)
            self.stats.commands += 1
        deadline = time.monotonic() + timeout_s
        while True:
            msg = self._state.wait(max(0.0, deadline - time.monotonic()))
            if msg is None:
                raise PortLost(f"no LowState_ on {LOW_STATE_TOPIC} (domain {self.config.domain}, "
                               f"{self.config.interface}) for {timeout_s:g} s")
            try:
                state = decode_state(msg, {s: r.poll() or r.latest for s, r in self._hands.items()},
                                     self._sensors.poll() or self._sensors.latest, self.layout,
                                     len(self.robot.touch), self._dt)
            except (CrcMismatch, ValueError):
                self.stats.crc_errors += 1
                continue
            if self._tick is None or state.tick > self._tick:
                break                       # (one not newer than what we have: a restart or a reordering)
        if self._tick is not None:
            self.stats.missed_ticks += max(0, state.tick - self._tick - 1)
        self._tick = state.tick
        self.stats.states += 1
        for name, reader in self._cameras.items():
            frame = reader.poll()
            if frame is not None:
                self._frames[name] = decode_frame(frame)
        state.rgbd = dict(self._frames)
        self.last = state
        return state

    def close(self) -> None:
        self.streaming = False


class RobotEndpoint:
    """The robot's side of the topics: reads commands, publishes states and camera frames."""

    def __init__(self, robot: RobotDescription, config: DdsConfig | None = None) -> None:
        self.robot, self.config = robot, config or DdsConfig()
        self.layout = MotorLayout.of(robot)
        dp = participant(self.config)
        self._cmd = _RawReader(dp, LOW_CMD_TOPIC, hg.LowCmd_)
        self._hand_cmd = {side: _Reader(dp, HAND_CMD_TOPIC.format(side=side), hg.HandCmd_)
                          for side in self.layout.hands}
        self._stream = _Reader(dp, STREAM_TOPIC, CameraStream_, qos=_EVERY)
        self._state = _writer(dp, LOW_STATE_TOPIC, hg.LowState_)
        self._hand_state = {side: _writer(dp, HAND_STATE_TOPIC.format(side=side), hg.HandState_)
                            for side in self.layout.hands}
        self._sensors = _writer(dp, SENSORS_TOPIC, Sensors_)
        self._frames = {c.name: _writer(dp, CAMERA_TOPIC.format(name=c.name), RgbdFrame_) for c in robot.cameras}
        self.crc_errors = 0
        self.commands = 0
        self._last_command: float | None = None     # when the last command came (monotonic clock) [s]

    def command(self) -> LowCmd | None:
        """The newest command that came since the last call (None: none, or its CRC was wrong)."""
        msg = self._cmd.poll()
        hands = {side: r.poll() or r.latest for side, r in self._hand_cmd.items()}
        if msg is None:
            return None
        try:
            cmd = decode_cmd(msg, hands, self.layout)
        except (CrcMismatch, ValueError):
            self.crc_errors += 1
            return None
        self.commands += 1
        self._last_command = time.monotonic()
        return cmd

    def idle_s(self) -> float:
        """How long since the last command came [s] (0 before the first)."""
        return 0.0 if self._last_command is None else time.monotonic() - self._last_command

    def stream_requests(self) -> dict[str, bool]:
        """Camera streams asked on or off since the last call."""
        return {msg.camera: bool(msg.on) for msg in self._stream.take()}

    def publish(self, state: LowState) -> None:
        body, hands, extra = encode_state(state, self.layout)
        self._sensors.write(extra)        # first, so that a client reading the state finds its tick's
        for side, msg in hands.items():
            self._hand_state[side].write(msg)
        self._state.write(_prepacked(hg.LowState_, body))

    def publish_frame(self, camera: str, frame: RgbdFrame) -> None:
        self._frames[camera].write(encode_frame(camera, frame))

"""The fleet's bus on DDS: the messages of :mod:`laoshan.fleet.bus`, each bus topic a DDS topic of
its own (``fleet/pose`` is ``rt/laoshan/fleet/pose``), for a fleet whose robots and manager run in
other processes or on other machines. A message travels as its kind and its fields in JSON,
reliably (every one arrives, in order, per writer); it is delivered when it arrives, so the
latency is the network's. (No ``from __future__ import annotations`` here: cyclonedds reads the
message type's annotations as types.)
"""

import json
from dataclasses import asdict, dataclass
from typing import Any

import cyclonedds.idl.annotations as annotate
from cyclonedds.core import Policy, Qos
from cyclonedds.idl import IdlStruct
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration

from laoshan.fleet.bus import Clearance, Message, PoseReport, Progress, Route, Signal
from laoshan.port.dds import DdsConfig, participant

PREFIX = "rt/laoshan/"
KINDS: dict[str, type] = {kind.__name__: kind for kind in (PoseReport, Route, Clearance, Progress, Signal)}
_RELIABLE = Qos(Policy.Reliability.Reliable(duration(milliseconds=100)), Policy.History.KeepLast(256))


@dataclass
@annotate.final
@annotate.autoid("sequential")
class FleetMessage_(IdlStruct, typename="laoshan.msg.dds_.FleetMessage_"):
    kind: str        # the message's class (PoseReport, Route, ...)
    body: str        # its fields, JSON


def _tuples(value: Any) -> Any:
    """JSON's lists back to the tuples the messages hold."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def encode(message: Message) -> FleetMessage_:
    return FleetMessage_(type(message).__name__, json.dumps(asdict(message)))


def decode(sample: FleetMessage_) -> Message:
    kind = KINDS.get(sample.kind)
    if kind is None:
        raise ValueError(f"unknown fleet message kind {sample.kind!r}")
    return kind(**{k: _tuples(v) for k, v in json.loads(sample.body).items()})   # type: ignore[no-any-return]


class DdsBus:
    """The bus (:class:`laoshan.fleet.bus.Bus`'s interface) on DDS."""

    def __init__(self, config: DdsConfig | None = None) -> None:
        self.dp = participant(config or DdsConfig())
        self._topics: dict[str, Topic] = {}
        self._writers: dict[str, DataWriter] = {}

    def _topic(self, topic: str) -> Topic:
        if topic not in self._topics:
            self._topics[topic] = Topic(self.dp, PREFIX + topic, FleetMessage_)
        return self._topics[topic]

    def publish(self, topic: str, message: Message, now_s: float) -> None:
        if topic not in self._writers:
            self._writers[topic] = DataWriter(self.dp, self._topic(topic), qos=_RELIABLE)
        self._writers[topic].write(encode(message))

    def subscribe(self, *topics: str) -> "DdsInbox":
        return DdsInbox([DataReader(self.dp, self._topic(t), qos=_RELIABLE) for t in topics])


class DdsInbox:
    """What has arrived for one subscriber."""

    def __init__(self, readers: list[DataReader]) -> None:
        self._readers = readers

    def take(self, now_s: float) -> list[Message]:
        """The messages that have arrived, topic by topic, oldest first (each once)."""
        return [decode(s) for reader in self._readers for s in reader.take(N=256)]

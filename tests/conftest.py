"""Shared fixtures: robot descriptions are parsed once per test session."""

from __future__ import annotations

import pytest

from laoshan.robot.description import RobotDescription, load_description

ROBOTS = ("g1-basic", "g1-functional")


@pytest.fixture(scope="session", params=ROBOTS)
def robot(request: pytest.FixtureRequest) -> RobotDescription:
    return load_description(request.param)


@pytest.fixture(scope="session")
def g1_basic() -> RobotDescription:
    return load_description("g1-basic")


@pytest.fixture(scope="session")
def g1_functional() -> RobotDescription:
    return load_description("g1-functional")

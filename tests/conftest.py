"""Shared fixtures: robot descriptions are parsed once per test session; a local LLM endpoint."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

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


@pytest.fixture
def llm_server() -> Iterator[tuple[str, list[str]]]:
    """A local OpenAI-compatible endpoint answering with the contents queued in ``replies``."""
    replies: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers["Content-Length"]))
            body = json.dumps({"choices": [{"message": {"content": replies.pop(0)}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1/chat/completions", replies
    server.shutdown()

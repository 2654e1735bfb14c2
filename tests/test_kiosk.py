"""The kiosk on Starlette/uvicorn, driven by real HTTP and WebSocket clients over loopback: turns
answered, malformed and hostile requests refused with a clear 4xx, no thread or connection tied up."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from laoshan.brain.dialogue.manager import DialogueManager
from laoshan.ui.kiosk import Kiosk, KioskLimits, json_depth, make_server

LIMITS = KioskLimits(read_timeout_s=0.5, keep_alive_s=1.0)


@pytest.fixture(scope="module")
def kiosk() -> Iterator[Kiosk]:
    server = make_server(DialogueManager.for_hall("bank"), port=0, limits=LIMITS)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    assert not thread.is_alive()


def exchange(kiosk: Kiosk, data: bytes, wait_s: float = 3.0) -> tuple[bytes, float]:
    """Send raw bytes on a new connection; everything the server sends until it closes, and how long
    that took (the connection must be closed by the server, not by waiting out ``wait_s``)."""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", kiosk.server_port), timeout=wait_s) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out, time.perf_counter() - start


def post(body: bytes, headers: str = "") -> bytes:
    return b"POST /api/turn HTTP/1.1\r\nHost: kiosk\r\n" + headers.encode() + b"\r\n" + body


def test_a_turn_over_http_and_a_follow_up_over_websocket(kiosk: Kiosk) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{kiosk.server_port}/api/turn",
                                     json.dumps({"person": "amy", "text": "我想开户"}).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read())["intent"] == "open_account"
    with connect(f"ws://127.0.0.1:{kiosk.server_port}/ws", open_timeout=5) as ws:
        ws.send(json.dumps({"person": "amy", "text": "定期存款"}))
        assert json.loads(ws.recv(timeout=5))["slots"] == {"account_type": "fixed"}
        ws.send("[" * 50 + "]" * 50)
        assert "nested deeper" in json.loads(ws.recv(timeout=5))["error"]
        ws.send(json.dumps({"person": "amy", "text": ""}))
        assert "said nothing" in json.loads(ws.recv(timeout=5))["error"]


@pytest.mark.parametrize(("body", "status", "says"), [
    (b"[" * 5000, 400, "nested deeper"),
    (b'{"text": "\xff\xfe"}', 400, "UTF-8"),
    (b"not json", 400, "not JSON"),
    (b'{"person": "x"}', 400, '"text"'),
    (b'{"person": ["x"], "text": "hi"}', 400, '"person"'),
    (json.dumps({"text": "x" * 3000}).encode(), 413, "at most"),
])
def test_malformed_turns_get_a_clear_400(kiosk: Kiosk, body: bytes, status: int, says: str) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{kiosk.server_port}/api/turn", body)
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=5)
    assert error.value.code == status and says in json.loads(error.value.read())["error"]


def test_broken_framing_is_answered_and_the_connection_closed(kiosk: Kiosk) -> None:
    for headers in ("Content-Length: abc\r\n", "Content-Length: -1\r\n"):
        out, _ = exchange(kiosk, post(b"{}", headers))
        assert out.startswith(b"HTTP/1.1 400")
    out, took = exchange(kiosk, post(b"{}", "Content-Length: 100\r\n"))      # the rest never comes
    assert out.startswith(b"HTTP/1.1 408") and took < 2.0
    _, took = exchange(kiosk, b"")                                             # connects, says nothing
    assert took < 2.5


def test_an_oversized_body_on_a_kept_alive_connection_is_not_read_as_the_next_request(kiosk: Kiosk) -> None:
    smuggled = b"GET /api/hall HTTP/1.1\r\nHost: kiosk\r\n\r\n"
    body = b"x" * 20000 + smuggled
    out, _ = exchange(kiosk, post(body, f"Content-Length: {len(body)}\r\n") + smuggled)
    assert out.startswith(b"HTTP/1.1 413") and out.count(b"HTTP/1.1") == 1 and b'"intents"' not in out


def test_unknown_paths_and_methods_are_json_errors(kiosk: Kiosk) -> None:
    for path, method, code in (("/nope", "GET", 404), ("/api/turn", "GET", 405)):
        request = urllib.request.Request(f"http://127.0.0.1:{kiosk.server_port}{path}", method=method)
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request, timeout=5)
        assert error.value.code == code and "error" in json.loads(error.value.read())


def test_json_depth_ignores_brackets_inside_strings() -> None:
    assert json_depth(b'{"a": [[1], {"b": "[[[[[["}]}') == 3
    assert json_depth(b'"\\"[[["') == 0

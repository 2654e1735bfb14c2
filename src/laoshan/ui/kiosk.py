"""A kiosk for one service hall: a web page, an HTTP API and a WebSocket, all on one port.

- ``GET /``: the kiosk page (type as any named visitor; replies show their cited entries).
- ``GET /api/hall``: the hall's name, intents and places.
- ``POST /api/turn`` with ``{"person": "alice", "text": "我想开户"}``: the reply as JSON
  (``person``, ``text``, ``language``, ``intent``, ``slots``, ``cites``, ``actions``).
- ``GET /ws``: a WebSocket (RFC 6455, text frames) taking and giving the same JSON, one reply per
  message, so a page keeps one connection open.

Standard library only; one dialogue manager serves every connection (guarded by a lock), so people
talking at several kiosks of the same hall keep their own sessions by their ids.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO

from laoshan.brain.dialogue.manager import DialogueManager

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE_BYTES = 64 * 1024
OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


class KioskError(ValueError):
    """A request the kiosk cannot take (bad JSON, missing fields, a frame too large)."""


def _turn(manager: DialogueManager, lock: threading.Lock, data: Any) -> dict:
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise KioskError('send {"person": "<id>", "text": "<what they said>"}')
    person = str(data.get("person") or "guest")
    with lock:
        try:
            return manager.turn(person, data["text"]).to_dict()
        except ValueError as exc:
            raise KioskError(str(exc)) from None


def read_frame(stream: BinaryIO) -> tuple[int, bytes]:
    """One WebSocket frame from a client (masked, unfragmented): (opcode, payload)."""
    head = stream.read(2)
    if len(head) < 2:
        return OP_CLOSE, b""
    fin, opcode, masked, length = head[0] & 0x80, head[0] & 0x0F, head[1] & 0x80, head[1] & 0x7F
    if length == 126:
        length = struct.unpack(">H", stream.read(2))[0]
    elif length == 127:
        length = struct.unpack(">Q", stream.read(8))[0]
    if not fin or not masked or length > MAX_MESSAGE_BYTES:
        raise KioskError("frames must be whole, masked and at most 64 KiB")
    mask = stream.read(4)
    payload = bytearray(stream.read(length))
    for i in range(len(payload)):
        payload[i] ^= mask[i % 4]
    return opcode, bytes(payload)


def write_frame(stream: BinaryIO, opcode: int, payload: bytes) -> None:
    """One unmasked server frame."""
    n = len(payload)
    if n < 126:
        length = bytes([n])
    elif n < 1 << 16:
        length = bytes([126]) + struct.pack(">H", n)
    else:
        length = bytes([127]) + struct.pack(">Q", n)
    stream.write(bytes([0x80 | opcode]) + length + payload)
    stream.flush()


def make_server(manager: DialogueManager, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    """The kiosk server (not yet serving: call ``serve_forever``); port 0 picks a free one."""
    lock = threading.Lock()
    domain = manager.domain

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"          # a WebSocket upgrade must answer in HTTP/1.1

        def log_message(self, format: str, *args: Any) -> None:   # quiet: the CLI prints what matters
            pass

        def _json(self, status: int, data: Any) -> None:
            body = json.dumps(data, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
                return self._websocket()
            if self.path == "/api/hall":
                return self._json(HTTPStatus.OK, {"domain": domain.name, "hall": domain.hall,
                                                  "intents": sorted(domain.intents), "places": sorted(domain.places)})
            if self.path in ("/", "/index.html"):
                body = PAGE.replace("{{HALL}}", domain.hall["zh"] + " · " + domain.hall["en"]).encode()
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such path {self.path!r}"})

        def do_POST(self) -> None:
            if self.path != "/api/turn":
                return self._json(HTTPStatus.NOT_FOUND, {"error": f"no such path {self.path!r}"})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_MESSAGE_BYTES:
                return self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "request too large"})
            try:
                self._json(HTTPStatus.OK, _turn(manager, lock, json.loads(self.rfile.read(length) or b"null")))
            except (KioskError, ValueError) as exc:
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})

        def _websocket(self) -> None:
            key = self.headers.get("Sec-WebSocket-Key", "")
            accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            self.send_response(HTTPStatus.SWITCHING_PROTOCOLS)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            while True:
                try:
                    opcode, payload = read_frame(self.rfile)
                except KioskError as exc:
                    write_frame(self.wfile, OP_CLOSE, struct.pack(">H", 1009) + str(exc).encode()[:120])
                    return
                if opcode == OP_CLOSE:
                    write_frame(self.wfile, OP_CLOSE, payload[:2])
                    return
                if opcode == OP_PING:
                    write_frame(self.wfile, OP_PONG, payload)
                    continue
                if opcode != OP_TEXT:
                    continue
                try:
                    answer = _turn(manager, lock, json.loads(payload.decode()))
                except (KioskError, ValueError) as exc:
                    answer = {"error": str(exc)}
                write_frame(self.wfile, OP_TEXT, json.dumps(answer, ensure_ascii=False).encode())

    return ThreadingHTTPServer((host, port), Handler)


PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>Laoshan kiosk</title>
<style>
body { font-family: sans-serif; max-width: 46rem; margin: 2rem auto; }
#log { border: 1px solid #ccc; height: 24rem; overflow-y: auto; padding: .5rem; }
.robot { color: #05577a; } .cite { color: #888; font-size: .8em; } .action { color: #a05a00; font-size: .8em; }
form { display: flex; gap: .5rem; margin-top: .5rem; } #text { flex: 1; }
</style></head>
<body><h2>{{HALL}}</h2>
<div id="log"></div>
<form id="f"><input id="person" value="guest" size="8" title="who is speaking">
<input id="text" placeholder="请说… / Say something…" autofocus><button>send</button></form>
<script>
const log = document.getElementById("log");
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
function line(cls, text) { const d = document.createElement("div"); d.className = cls; d.textContent = text;
  log.appendChild(d); log.scrollTop = log.scrollHeight; }
ws.onmessage = (e) => { const r = JSON.parse(e.data);
  if (r.error) { line("action", "error: " + r.error); return; }
  line("robot", "🤖 → " + r.person + ": " + r.text);
  if (r.cites.length) line("cite", "source: " + r.cites.join(", "));
  for (const a of r.actions) line("action", "action: " + JSON.stringify(a)); };
document.getElementById("f").onsubmit = (e) => { e.preventDefault();
  const person = document.getElementById("person").value || "guest", t = document.getElementById("text");
  if (!t.value.trim()) return; line("", person + ": " + t.value);
  ws.send(JSON.stringify({person: person, text: t.value})); t.value = ""; };
</script></body></html>
"""

"""A kiosk for one service hall: a web page, an HTTP API and a WebSocket, all on one port.

- ``GET /``: the kiosk page (type as any named visitor; replies show their cited entries).
- ``GET /api/hall``: the hall's name, intents and places.
- ``POST /api/turn`` with ``{"person": "alice", "text": "我想开户"}``: the reply as JSON
  (``person``, ``text``, ``language``, ``intent``, ``slots``, ``cites``, ``actions``).
- ``GET /ws``: a WebSocket taking and giving the same JSON, one reply per message, so a page keeps
  one connection open.

Starlette serves it on uvicorn (HTTP/1.1 by h11, WebSockets by ``websockets``), which parse the
protocol; this module sets the limits: request bodies and WebSocket messages of at most
``max_body_bytes``, JSON nested at most ``max_json_depth`` deep, a body that must arrive within
``read_timeout_s``, idle connections (a new one that sends nothing too) closed after
``keep_alive_s``, at most ``max_connections``
at once (503 beyond). Every refusal is a 4xx (or 503) with ``{"error": "..."}``. One dialogue
manager serves every connection, one turn at a time, so people talking at several kiosks of the
same hall keep their own sessions by their ids.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from laoshan.brain.dialogue.manager import DialogueManager

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class KioskLimits:
    max_body_bytes: int = 16 * 1024     # a request body or WebSocket message larger than this is refused
    max_json_depth: int = 8             # JSON nested deeper is refused before it is parsed
    max_text_chars: int = 2000          # what someone says, at most
    max_person_chars: int = 64          # a speaker's id, at most
    read_timeout_s: float = 5.0         # a request body must arrive within this
    keep_alive_s: float = 5.0           # an idle connection is closed after this
    max_connections: int = 1000         # connections (and WebSockets) at once; more get 503

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not value > 0:
                raise ValueError(f"KioskLimits.{name} must be > 0, got {value}")


class KioskError(ValueError):
    """A request the kiosk cannot take; ``status`` is the HTTP status it answers with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def json_depth(raw: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (strings do not count)."""
    depth = deepest = 0
    for byte in _JSON_STRING.sub(b'""', raw):
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest


def parse_turn(raw: bytes, limits: KioskLimits) -> tuple[str, str]:
    """``(person, text)`` from a request body or message; KioskError says what is wrong with it."""
    if len(raw) > limits.max_body_bytes:
        raise KioskError(f"a turn is at most {limits.max_body_bytes} bytes", 413)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise KioskError("the body must be UTF-8 JSON") from None
    if json_depth(raw) > limits.max_json_depth:
        raise KioskError(f"JSON nested deeper than {limits.max_json_depth} levels")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise KioskError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise KioskError('send {"person": "<id>", "text": "<what they said>"}')
    person = data.get("person") or "guest"
    if not isinstance(person, str) or len(person) > limits.max_person_chars:
        raise KioskError(f'"person" must be text of at most {limits.max_person_chars} characters')
    if len(data["text"]) > limits.max_text_chars:
        raise KioskError(f'"text" must be at most {limits.max_text_chars} characters', 413)
    return person, data["text"]


def create_app(manager: DialogueManager, limits: KioskLimits | None = None) -> Starlette:
    """The kiosk as an ASGI application (serve it with :class:`Kiosk`, or any ASGI server)."""
    limits = limits or KioskLimits()
    domain = manager.domain
    lock = threading.Lock()     # the manager keeps sessions: one turn at a time

    def turn(person: str, text: str) -> dict:
        with lock:
            try:
                return manager.turn(person, text).to_dict()
            except ValueError as exc:        # e.g. someone said nothing
                raise KioskError(str(exc)) from None

    async def answer(raw: bytes) -> dict:
        return await run_in_threadpool(turn, *parse_turn(raw, limits))

    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE.replace("{{HALL}}", domain.hall["zh"] + " · " + domain.hall["en"]))

    async def hall(request: Request) -> Response:
        return JSONResponse({"domain": domain.name, "hall": domain.hall, "intents": sorted(domain.intents),
                             "places": sorted(domain.places)})

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and int(declared) > limits.max_body_bytes:   # h11 has checked it is a number
            raise KioskError(f"a turn is at most {limits.max_body_bytes} bytes", 413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limits.max_body_bytes:
                raise KioskError(f"a turn is at most {limits.max_body_bytes} bytes", 413)
        return bytes(body)

    async def post_turn(request: Request) -> Response:
        try:
            raw = await asyncio.wait_for(read_body(request), limits.read_timeout_s)
            return JSONResponse(await answer(raw))
        except TimeoutError:
            return _error(f"the body did not arrive within {limits.read_timeout_s:g} s", 408, close=True)
        except KioskError as exc:
            return _error(str(exc), exc.status, close=exc.status == 413)   # an unread body ends the connection

    async def websocket(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                raw = message.get("bytes") or (message.get("text") or "").encode("utf-8", "surrogatepass")
                try:
                    await ws.send_json(await answer(raw))
                except KioskError as exc:
                    await ws.send_json({"error": str(exc)})
        except WebSocketDisconnect:
            return

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(str(exc.detail), exc.status_code)

    return Starlette(routes=[Route("/", page), Route("/index.html", page), Route("/api/hall", hall),
                             Route("/api/turn", post_turn, methods=["POST"]), WebSocketRoute("/ws", websocket)],
                     exception_handlers={HTTPException: http_error})


class _IdleTimeoutH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, whose idle timer also runs on a new connection before its first
    request (uvicorn starts it only after a response: a client that connects and sends nothing
    would hold its connection for good)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)   # type: ignore[arg-type]
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)


def _error(message: str, status: int, close: bool = False) -> Response:
    return JSONResponse({"error": message}, status, headers={"Connection": "close"} if close else None)


class Kiosk:
    """The kiosk served by uvicorn on ``host:port`` (port 0: any free one, see :attr:`server_port`).
    Its methods are named as Python's ``socketserver`` names them."""

    def __init__(self, manager: DialogueManager, host: str = "127.0.0.1", port: int = 8080,
                 limits: KioskLimits | None = None) -> None:
        self.limits = limits = limits or KioskLimits()
        self.socket = socket.create_server((host, port))      # bound now: a taken port fails here, clearly
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        config = uvicorn.Config(create_app(manager, limits), log_level="error", http=_IdleTimeoutH11,
                                ws="websockets-sansio",
                                timeout_keep_alive=int(max(1, round(limits.keep_alive_s))),
                                limit_concurrency=limits.max_connections, ws_max_size=limits.max_body_bytes,
                                h11_max_incomplete_event_size=limits.max_body_bytes)
        self.server = uvicorn.Server(config)
        self._stopped = threading.Event()
        self._stopped.set()

    @property
    def server_port(self) -> int:
        return self.server_address[1]

    def serve_forever(self) -> None:
        """Serve until Ctrl-C (in the main thread) or :meth:`shutdown` (from another)."""
        self._stopped.clear()
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` (its open requests finish) and wait until it has returned."""
        self.server.should_exit = True
        self._stopped.wait()

    def server_close(self) -> None:
        self.socket.close()


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


def make_server(manager: DialogueManager, host: str = "127.0.0.1", port: int = 8080,
                limits: KioskLimits | None = None) -> Kiosk:
    """The kiosk, bound and not yet serving (call ``serve_forever``)."""
    return Kiosk(manager, host, port, limits)

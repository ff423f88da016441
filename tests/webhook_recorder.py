"""A local HTTP receiver for the owners' webhooks: records every call (path, headers, raw body) and answers with
a scripted status per path (then 200), so tests can check signatures and drive retries over real HTTP."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float  # time.monotonic() when it arrived


@dataclass
class WebhookRecorder:
    script: dict[str, list[int]] = field(default_factory=dict)  # path -> statuses to answer first
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                queue = recorder.script.get(self.path, [])
                status = queue.pop(0) if queue else 200
                recorder.calls.append(Call(self.path, dict(self.headers), body, status, time.monotonic()))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def to(self, path: str) -> list[Call]:
        return [c for c in list(self.calls) if c.path == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

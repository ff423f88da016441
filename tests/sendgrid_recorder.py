"""A local stand-in for the SendGrid v3 API: records `POST /v3/mail/send` as SendGrid receives it.

It speaks SendGrid's wire format (Bearer auth, JSON body, 202 with X-Message-Id; 4xx/5xx with an `errors` body), and
answers with a scripted sequence of statuses so tests can drive retries and permanent failures.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class SendGridRecorder:
    api_key: str = "SG.test-key"
    script: list[int] = field(default_factory=list)  # statuses to answer with, in order; then 202
    requests: list[RecordedRequest] = field(default_factory=list)
    url: str = ""

    async def _mail_send(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(RecordedRequest(request.path, dict(request.headers), body))
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"errors": [{"message": "The provided authorization grant is invalid"}]},
                                     status=401)
        status = self.script.pop(0) if self.script else 202
        if status == 202:
            return web.Response(status=202, headers={"X-Message-Id": uuid.uuid4().hex})
        return web.json_response({"errors": [{"message": f"scripted {status}"}]}, status=status)

    def __enter__(self) -> SendGridRecorder:
        started = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application()
            app.router.add_post("/v3/mail/send", self._mail_send)
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            port = self._runner.addresses[0][1]
            self.url = f"http://127.0.0.1:{port}"
            started.set()

        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(serve(), self._loop)
        if not started.wait(10):
            raise RuntimeError("SendGrid recorder did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

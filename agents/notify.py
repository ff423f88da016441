"""case-event -> the owner's webhook (Slack-compatible, signed) and email, for opened, attached and escalated cases.

Each (event, channel) is tried once when the event arrives; a failure is retried later by the stage's own schedule
with exponential backoff (2 s, 4 s, ... at most 5 min), so a failing webhook holds up neither the cases stream nor
other notifications. After `CXLOOP_NOTIFY_ATTEMPTS` tries the case event goes to dead-letter with the last error
(partition and offset -1: a retry is no longer tied to the message that started it).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

import aiohttp
import faust
from faust.types import EventT

from agents.pipeline import Pipeline
from agents.scheduler import Schedule
from cxloop.clock import epoch_ms, from_epoch_ms
from cxloop.directory import Directory, Person
from cxloop.model import CaseEvent
from cxloop.notifications import NOTIFIED, owner_email, signature, webhook_body
from sinks.email import EmailSender

log = logging.getLogger(__name__)


class NotificationFailed(RuntimeError):
    pass


def register(pipe: Pipeline, directory: Directory, sender: EmailSender) -> faust.types.AgentT:
    pending = pipe.table("notifications", help="case id -> {event id|channel: {attempts, event, due}}: retries")
    schedule = Schedule(pipe, "notify")
    secret = pipe.settings.webhook_signing_secret.get_secret_value().encode()
    http: dict[str, aiohttp.ClientSession] = {}

    async def post(url: str, body: bytes) -> None:
        if "session" not in http:
            http["session"] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        stamp = int(pipe.clock.now().timestamp())
        headers = {"Content-Type": "application/json", "X-Cxloop-Signature": signature(secret, body, stamp)}
        try:
            async with http["session"].post(url, data=body, headers=headers) as reply:
                if reply.status >= 300:
                    raise NotificationFailed(f"webhook {url} answered {reply.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise NotificationFailed(f"webhook {url} unreachable: {exc!r}") from exc

    async def deliver(event: CaseEvent, person: Person, channel: str) -> None:
        if channel == "webhook":
            await post(person.webhook or "", webhook_body(event, person))
        else:
            await asyncio.to_thread(sender.send, owner_email(event, person))

    async def attempt(event: CaseEvent, raw: bytes, channel: str, attempts: int, retries: dict) -> None:
        """Try once; on failure keep it in `retries` for later, or give up to dead-letter after the last try."""
        name = f"{event.event_id}|{channel}"
        person = directory.person(event.owner_id)
        try:
            await deliver(event, person, channel)
            retries.pop(name, None)
        except Exception as exc:
            attempts += 1
            if attempts >= pipe.settings.notify_attempts:
                retries.pop(name, None)
                raise NotificationFailed(f"{channel} notification of {event.event_id} to {person.id} failed "
                                         f"{attempts} times, last: {exc}") from exc
            delay = timedelta(seconds=min(2 ** attempts, 300))
            log.warning("%s notification of %s failed (%s), retry %d in %s", channel, event.event_id, exc,
                        attempts, delay)
            retries[name] = {"attempts": attempts, "event": raw.hex(), "due": epoch_ms(pipe.clock.now() + delay)}

    def keep(key: bytes, retries: dict) -> None:
        """Store what is left to retry for this case and wake up for the earliest."""
        if retries:
            pending[key] = json.dumps(retries).encode()
            schedule.at(key, from_epoch_ms(min(r["due"] for r in retries.values())))
        else:
            if pending.get(key) is not None:
                del pending[key]
            schedule.done(key)

    async def work(key: bytes, retries: dict, todo: list[tuple[CaseEvent, bytes, str, int]]) -> None:
        for case_event, raw, channel, attempts in todo:
            try:
                await attempt(case_event, raw, channel, attempts, retries)
            except NotificationFailed as exc:  # given up: the case event, as it was, goes to dead-letter
                await pipe.dead_letter("notify", exc, pipe.settings.topic("case-event"), -1, -1, key, raw)
        keep(key, retries)

    async def on_event(event: EventT) -> None:
        case_event = pipe.decode(event, CaseEvent)
        if case_event.event not in NOTIFIED:
            return
        key = case_event.case_id.encode()
        retries = json.loads(pending.get(key) or b"{}")
        person = directory.person(case_event.owner_id)
        channels = [c for c, address in (("webhook", person.webhook), ("email", person.email)) if address]
        todo = [(case_event, event.message.value or b"", c, 0) for c in channels
                if f"{case_event.event_id}|{c}" not in retries]  # else a retry is under way (this is a replay)
        await work(key, retries, todo)

    async def on_tick(event: EventT) -> None:
        key = event.message.key or b""
        retries = json.loads(pending.get(key) or b"{}")
        now = epoch_ms(pipe.clock.now())
        todo = []
        for name, state in retries.items():
            if state["due"] <= now:
                raw = bytes.fromhex(state["event"])
                case_event = CaseEvent.from_record(pipe.codec.decode("case-event", raw))
                todo.append((case_event, raw, name.rsplit("|", 1)[1], state["attempts"]))
        await work(key, retries, todo)

    return pipe.agent("notify", {pipe.topic("case-event"): on_event, schedule.ticks: on_tick})

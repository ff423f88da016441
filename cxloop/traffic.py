"""A synthetic contact centre: publishes interactions and, as its customers, answers some of the surveys.

Agents differ in skill, unresolved contacts and transfers hurt, long waits hurt: the figures on the dashboards have
structure to find. Customers answer by following the score link of the email in the outbox, like a real click, and
`GatewayCustomers` plays the SMS, WhatsApp, IVR and chat gateways: it reads their topics and replies as customers
type ("9", "nine", "8 quick and friendly", now and then something with no score, or STOP).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
from confluent_kafka import Consumer

from cxloop.clock import Clock, SystemClock
from cxloop.codec import Codec
from cxloop.decisions import TriggerRules
from cxloop.model import CaseUpdate, Interaction, SurveyResponse
from cxloop.producer import AsyncProducer
from cxloop.programs import DEFAULT_PROGRAMS, GATEWAY_CHANNELS, load_programs
from cxloop.scoring import SCALES
from cxloop.settings import Settings
from cxloop.surveys import survey_id

log = logging.getLogger(__name__)

CHANNEL_TRIGGERS = [
    ("voice", "call_end", 0.40), ("chat", "chat_end", 0.25), ("email", "ticket_solved", 0.20),
    ("bot", "bot_session_end", 0.10), ("web", "self_service_end", 0.05),
]
# Customers around the world (time zone, language): at any hour some are in their quiet hours and some are not.
ZONES = [("Europe/London", "en"), ("Europe/Madrid", "es"), ("America/New_York", "en"),
         ("America/Mexico_City", "es"), ("America/Los_Angeles", "en"), ("Asia/Kolkata", "en"),
         ("Australia/Sydney", "en")]
REASONS = ["billing", "delivery", "technical_support", "account_change", "returns", "complaint"]
TEAMS = {"team-north": ["ava", "ben", "cai", "dee"], "team-south": ["eli", "fay", "gus"], "team-east": ["hal", "ivy"]}
COMMENTS = {
    False: ["I waited far too long on hold.", "Nobody could tell me where my refund is.",
            "I was transferred three times and had to repeat everything.",
            "The agent was friendly but it's still broken."],
    True: ["Quick and helpful, thank you!", "The agent knew exactly what to do.", "Solved on the first call."],
}
LINK = re.compile(r"^(\d+): (http\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class Agent:
    agent_id: str
    team_id: str
    skill: float  # 0..1, how well this agent's customers fare


class ContactCentre:
    def __init__(self, seed: int = 7, customers: int = 500, rules: TriggerRules | None = None) -> None:
        self.rng = random.Random(seed)
        self.rules = rules or TriggerRules(load_programs(DEFAULT_PROGRAMS))
        self.agents = [
            Agent(f"agent-{name}", team, round(self.rng.uniform(0.35, 0.95), 2))
            for team, names in TEAMS.items() for name in names
        ]
        self.customers = [f"cust-{i:05d}" for i in range(customers)]
        self.sequence = 0
        self.mood: dict[str, float] = {}  # survey id -> how the customer feels, 0..1

    def interaction(self, now: datetime) -> Interaction:
        self.sequence += 1
        rng = self.rng
        channel, trigger = rng.choices([(c, t) for c, t, _ in CHANNEL_TRIGGERS],
                                       weights=[w for *_, w in CHANNEL_TRIGGERS])[0]
        bot = channel in ("bot", "web")
        agent = rng.choice(self.agents)
        customer = rng.choice(self.customers)
        number = int(customer.split("-")[1])
        transfers = 0 if bot else rng.choices([0, 1, 2], weights=[0.75, 0.2, 0.05])[0]
        resolved = rng.random() < (0.55 if bot else 0.6 + 0.35 * agent.skill)
        wait = int(rng.expovariate(1 / 90))
        handle = int(rng.uniform(60, 900))
        interaction = Interaction(
            interaction_id=f"int-{now:%Y%m%d}-{self.sequence:07d}-{rng.getrandbits(24):06x}",
            source_system="cxloop-traffic",
            trigger=trigger, channel=channel, customer_id=customer,
            started_at=now - timedelta(seconds=handle + wait), ended_at=now,
            customer_email=f"{customer}@customers.example" if rng.random() < 0.93 else None,
            customer_phone=f"+1555{number:07d}" if rng.random() < 0.8 else None,
            customer_locale=ZONES[number % len(ZONES)][1], customer_timezone=ZONES[number % len(ZONES)][0],
            handled_by="bot" if bot else "human",
            agent_id=None if bot else agent.agent_id, agent_name=None if bot else agent.agent_id.split("-")[1],
            team_id=None if bot else agent.team_id, queue=f"{channel}-{rng.choice(['general', 'priority'])}",
            contact_reason=rng.choice(REASONS), handle_time_seconds=handle, wait_time_seconds=wait,
            transfers=transfers, resolved=resolved, first_contact_resolution=resolved and transfers == 0,
        )
        skill = 0.5 if bot else agent.skill
        mood = 0.45 + 0.45 * skill + (0.2 if resolved else -0.25) - 0.1 * transfers - min(wait, 600) / 3000
        program = self.rules.program_for(interaction)
        if program is not None:
            self.mood[survey_id(program.id, interaction.interaction_id)] = max(0.0, min(1.0, mood))
        return interaction

    def answer(self, survey: str, metric: str) -> int:
        scale = SCALES[metric]  # type: ignore[index]
        mood = self.mood.get(survey, 0.6) + self.rng.gauss(0, 0.12)
        return max(scale.low, min(scale.high, round(scale.low + mood * (scale.high - scale.low))))


WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


class GatewayCustomers:
    """Customers answering survey messages on the gateways' topics, as each channel's gateway would pass them on."""

    def __init__(self, centre: ContactCentre, share: float = 0.6) -> None:
        self.centre = centre
        self.share = share

    def reply_to(self, message: dict, now: datetime) -> SurveyResponse | None:
        """The customer's reply to one survey-outbound message, if they answer it."""
        rng, survey, channel, kind = self.centre.rng, message["survey_id"], message["channel"], message["kind"]
        if kind in ("invitation", "reminder") and rng.random() >= self.share:
            return None
        if kind == "follow_up" and rng.random() >= 0.4:
            return None
        score = self.centre.answer(survey, message["metric"])
        comment = rng.choice(COMMENTS[score >= message["scale_high"] - 2])
        if channel == "ivr":
            return SurveyResponse(survey, None, "ivr_keypress", now, reply_text=f"{score}#")
        if channel == "chat":
            return SurveyResponse(survey, score, "chat_widget", now, comment=comment if rng.random() < 0.4 else None)
        source = f"{channel}_reply"
        if kind == "follow_up":
            return SurveyResponse(survey, None, source, now, reply_text=comment)
        draw = rng.random()
        if kind == "clarify" or draw < 0.45:
            text = str(score)
        elif draw < 0.7:
            text = f"{score} {comment}"
        elif draw < 0.9:
            text = WORDS[score].capitalize()
        elif draw < 0.98:
            text = "what is this?"
        else:
            text = "STOP"
        return SurveyResponse(survey, None, source, now, reply_text=text)


async def answer_gateway_messages(settings: Settings, customers: GatewayCustomers, producer: AsyncProducer,
                                  consumer: Consumer, codec: Codec, clock: Clock) -> int:
    """Reply to the survey messages waiting on the gateway topics; returns how many replies were sent."""
    sent = 0
    for message in consumer.consume(200, timeout=0):
        if message.error():
            continue
        reply = customers.reply_to(codec.decode("survey-outbound", message.value()), clock.now())
        if reply is not None:
            await producer.send(settings.topic(reply.contract), reply.survey_id.encode(),
                                codec.encode(reply.contract, reply.to_record()))
            sent += 1
    return sent


def gateway_consumer(settings: Settings) -> Consumer:
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": f"{settings.app_id}-demo-gateways",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([settings.topic(f"survey-outbound-{channel}") for channel in GATEWAY_CHANNELS])
    return consumer


OUTCOMES = {"product_issue": "bug_reported", "process": "refund_issued", "agent_behaviour": "apology_and_coaching",
            "expectation_gap": "explained"}


class OwnerDesk:
    """The case owners, working the cases the demo's detractors open: most are contacted within a minute or two and
    resolved with an outcome and a root cause, some customers cannot be reached, some cases are left to escalate."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.planned: list[tuple[datetime, CaseUpdate]] = []

    def plan(self, event: dict, now: datetime) -> None:
        if event["event"] != "opened":
            return
        draw = self.rng.random()
        if draw < 0.2:
            return  # nobody gets to it: it escalates
        contact = now + timedelta(seconds=self.rng.uniform(10, 120))

        def step(at: datetime, status: str, **fields: str) -> tuple[datetime, CaseUpdate]:
            return at, CaseUpdate(case_id=event["case_id"], customer_id=event["customer_id"],
                                  actor=event["owner_id"], updated_at=at, status=status, **fields)

        if draw < 0.3:
            self.planned.append(step(contact, "unreachable", note="three attempts, no answer"))
            return
        cause = self.rng.choice(list(OUTCOMES))
        self.planned += [step(contact, "contacted"),
                         step(contact + timedelta(seconds=self.rng.uniform(5, 60)), "resolved",
                              outcome=OUTCOMES[cause], root_cause=cause)]

    def due(self, now: datetime) -> list[CaseUpdate]:
        ready = sorted((p for p in self.planned if p[0] <= now), key=lambda p: p[0])
        self.planned = [p for p in self.planned if p[0] > now]
        return [update for _, update in ready]


async def work_cases(settings: Settings, desk: OwnerDesk, producer: AsyncProducer, consumer: Consumer,
                     codec: Codec, clock: Clock) -> int:
    """Plan the owners' work on newly opened cases and publish the updates that are due; returns how many."""
    now = clock.now()
    for message in consumer.consume(200, timeout=0):
        if not message.error():
            desk.plan(codec.decode("case-event", message.value()), now)
    updates = desk.due(now)
    for update in updates:
        await producer.send(settings.topic(update.contract), update.customer_id.encode(),
                            codec.encode(update.contract, update.to_record()))
    return len(updates)


def score_links(eml: bytes) -> tuple[str, dict[int, str]]:
    """The survey id and the one-click score links of an outbox email."""
    message = email.message_from_bytes(eml, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",))
    body = text.get_content() if text is not None else ""
    return str(message["X-Cxloop-Survey-Id"]), {int(s): url for s, url in LINK.findall(body)}


def metric_of(links: dict[int, str]) -> str:
    return {10: "nps", 5: "csat", 7: "ces"}[max(links)]


async def run_traffic(
    settings: Settings, stop: asyncio.Event, rate: float = 5.0, answer_share: float = 0.6,
    clock: Clock | None = None, seed: int = 7,
) -> dict[str, int]:
    """Publish interactions at `rate`/s and answer `answer_share` of the surveys in the outbox and on the gateway
    topics, until `stop`."""
    clock = clock or SystemClock()
    centre = ContactCentre(seed, rules=TriggerRules(load_programs(settings.programs_file or DEFAULT_PROGRAMS)))
    codec = Codec()
    producer = AsyncProducer(settings)
    counts = {"interactions": 0, "answered": 0, "gateway_replies": 0, "case_updates": 0}
    seen: set[Path] = set()
    topic = settings.topic("interaction-completed")
    customers = GatewayCustomers(centre, answer_share)
    consumer = gateway_consumer(settings)
    desk, cases = OwnerDesk(centre.rng), Consumer({
        "bootstrap.servers": settings.kafka_bootstrap, "group.id": f"{settings.app_id}-demo-owners",
        "auto.offset.reset": "earliest"})
    cases.subscribe([settings.topic("case-event")])
    try:
        async with aiohttp.ClientSession() as http:
            while not stop.is_set():
                interaction = centre.interaction(clock.now())
                value = codec.encode(interaction.contract, interaction.to_record())
                await producer.send(topic, interaction.customer_id.encode(), value)
                counts["interactions"] += 1
                counts["answered"] += await _answer_new_emails(settings.outbox, seen, centre, http, answer_share)
                counts["gateway_replies"] += await answer_gateway_messages(settings, customers, producer, consumer,
                                                                           codec, clock)
                counts["case_updates"] += await work_cases(settings, desk, producer, cases, codec, clock)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1 / rate)
    finally:
        cases.close()
        consumer.close()
        producer.close()
    return counts


async def _answer_new_emails(
    outbox: Path, seen: set[Path], centre: ContactCentre, http: aiohttp.ClientSession, share: float
) -> int:
    answered = 0
    for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
        if path in seen:
            continue
        seen.add(path)
        if centre.rng.random() >= share:
            continue
        survey, links = score_links(path.read_bytes())
        if not links:
            continue
        score = centre.answer(survey, metric_of(links))
        try:
            async with http.get(links[score]) as reply:
                answered += reply.status == 200
            if reply.status == 200 and centre.rng.random() < 0.4:  # some also answer the follow-up question
                comment = centre.rng.choice(COMMENTS[score >= max(links) - 2])
                async with http.post(links[score].split("?")[0], data={"score": score, "comment": comment}):
                    pass
        except aiohttp.ClientError as exc:
            log.warning("could not answer survey %s: %s", survey, exc)
    return answered

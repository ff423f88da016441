"""Caps, sampling and suppression at scale on the real broker, and the same run with the worker SIGKILLed."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from cxloop.model import ConsentChange, Interaction
from cxloop.settings import Settings
from tests.conftest import PROGRAMS
from tests.integration.fatigue_model import Customer, FatigueModel, duration
from tests.support import Service, TopicReader, consumed_everything, publish_records, wait_for

CUSTOMERS, INTERACTIONS = 2_000, 20_000
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney"]
TRIGGERS = [("call_end", "voice", "human"), ("transfer", "voice", "human"), ("escalation", "voice", "human"),
            ("ticket_solved", "email", "human"), ("chat_end", "chat", "human"),
            ("bot_session_end", "bot", "bot"), ("self_service_end", "web", "bot")]


def contact_centre_weeks(seed: int = 11) -> tuple[list[Interaction], list[str]]:
    """20,000 interactions of 2,000 customers over six weeks, in time order, with upstream duplicates; and the
    customers who opted out before it all."""
    rng = random.Random(seed)
    end = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    start = end - timedelta(weeks=6)
    customers = {
        f"cust-{n:05d}": (rng.choice(ZONES),
                          "employee" if rng.random() < 0.02 else rng.choice(["consumer", "business"]),
                          None if rng.random() < 0.05 else f"c{n}@customers.example")
        for n in range(CUSTOMERS)
    }
    events: list[Interaction] = []
    for n in range(INTERACTIONS):
        customer = rng.choice(list(customers))
        zone, segment, email = customers[customer]
        trigger, channel, handled_by = rng.choice(TRIGGERS)
        ended = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
        events.append(Interaction(
            interaction_id=f"i-{n:06d}", trigger=trigger, channel=channel, started_at=ended - timedelta(minutes=6),
            ended_at=ended, customer_id=customer, customer_email=email, customer_timezone=zone,
            customer_segment=segment, handled_by=handled_by, agent_id=None if handled_by == "bot" else "agent-1",
            contact_reason=rng.choices(["billing", "delivery", "complaint"], [0.5, 0.4, 0.1])[0],
            resolved=rng.random() < 0.7,
        ))
    events.sort(key=lambda i: i.ended_at)
    for i in rng.sample(range(len(events)), 150):  # the same interaction again under a second trigger
        events.insert(i + 1, events[i].__class__(**{**events[i].to_record(), "trigger": "transfer"}))
    for i in rng.sample(range(len(events)), 100):  # upstream publishing the very same event twice
        events.insert(i + 1, events[i])
    opted_out = rng.sample(list(customers), 40)
    return events, opted_out


def run(settings: Settings, kills: int) -> None:
    events, opted_out = contact_centre_weeks()
    now = datetime.now(timezone.utc)
    publish_records(settings, "customer-consent", [
        (c, ConsentChange(customer_id=c, status="opted_out", changed_at=now, reason="unsubscribe").to_record())
        for c in opted_out])
    worker = Service("worker", settings, settings.data_dir.parent / "worker.log")
    decisions = TopicReader(settings, "survey-decision")
    invitations = TopicReader(settings, "survey-invitation")
    try:
        worker.wait_for_output("[^Worker]: Ready", timeout=120)
        wait_for(lambda: consumed_everything(settings, "customer-consent"), 120, what="opt-outs applied")
        publish_records(settings, "interaction-completed", [(i.customer_id, i.to_record()) for i in events])
        expected_keys = {(i.interaction_id, i.trigger) for i in events}
        def progress() -> int:
            worker.supervise()
            return len({(d["interaction_id"], d["trigger"]) for d in decisions.poll()})

        for share in [0.25, 0.6][:kills]:
            wait_for(lambda s=share: progress() >= s * len(expected_keys), 300,
                     what=f"{share:.0%} of the decisions before a SIGKILL")
            worker.kill()
            worker = Service("worker", settings, settings.data_dir.parent / "worker.log")
            worker.wait_for_output("[^Worker]: Ready", timeout=120)
        try:
            wait_for(lambda: progress() >= len(expected_keys), 240, what="a decision for every interaction")
        except AssertionError:
            missing = expected_keys - {(d["interaction_id"], d["trigger"]) for d in decisions.records}
            raise AssertionError(f"{len(missing)} interactions never decided, e.g. {sorted(missing)[:5]}; "
                                 f"consumed everything: {consumed_everything(settings, 'interaction-completed')}"
                                 ) from None
        wait_for(lambda: worker.supervise() or consumed_everything(settings, "interaction-completed"), 120,
                 what="every event committed")
        # Committed means the outputs were flushed first: read until nothing more comes.
        for reader in (decisions, invitations):
            wait_for(lambda r=reader: _drained(r), 60, what=f"the end of {reader.contract}")
    finally:
        worker.stop()
        decisions.close()
        invitations.close()
    check(settings, events, opted_out, decisions.records, invitations.records)


def check(settings: Settings, events: list[Interaction], opted_out: list[str], decisions: list[dict],
          invitations: list[dict]) -> None:
    programs_yaml = (PROGRAMS / "caps.yaml").read_text()
    model = FatigueModel(programs_yaml)
    for customer in opted_out:
        model.customers[customer] = Customer(opted_out=True)
    by_key: dict[tuple[str, str], set[tuple[str, str | None]]] = defaultdict(set)
    for d in decisions:
        by_key[(d["interaction_id"], d["trigger"])].add((d["outcome"], d["survey_id"]))
    repeated = {k: v for k, v in by_key.items() if len(v) > 1}
    assert not repeated, f"an interaction got two different decisions: {list(repeated.items())[:3]}"
    now = datetime.now(timezone.utc)  # every send is 60 days after its interaction: in the future, whatever now is
    expected: dict[tuple[str, str], tuple[str, str | None]] = {}
    for i in events:
        verdict = model.decide(i.to_record(), now)
        if verdict is not None:
            expected[(i.interaction_id, i.trigger)] = verdict
    assert len(by_key) == len(expected), "one decision per interaction: the counts add up"
    wrong = [(k, expected[k], next(iter(by_key[k]))) for k in expected if next(iter(by_key[k])) != expected[k]]
    assert not wrong, f"{len(wrong)} decisions differ from the rules, e.g. {wrong[:5]}"
    outcomes = defaultdict(int)
    for outcome, _ in expected.values():
        outcomes[outcome] += 1
    for reason in ("invited", "sampled_out", "frequency_capped", "quiet_hours_deferred", "opted_out", "excluded",
                   "duplicate", "no_contact"):
        assert outcomes[reason] > 0, f"the data exercises {reason}"

    surveys_per_interaction: dict[str, set[str]] = defaultdict(set)
    for inv in invitations:
        surveys_per_interaction[inv["interaction_id"]].add(inv["survey_id"])
    assert all(len(s) == 1 for s in surveys_per_interaction.values()), "never two surveys for one interaction"
    sent = {sid for outcome, sid in expected.values() if sid}
    assert set().union(*surveys_per_interaction.values()) == sent

    # No cap is violated by what was actually sent.
    caps = FatigueModel(programs_yaml).caps
    times: dict[str, list[datetime]] = defaultdict(list)
    for inv in {i["survey_id"]: i for i in invitations}.values():
        times[inv["customer_id"]].append(inv["interaction_ended_at"])
    for customer, stamps in times.items():
        stamps.sort()
        assert all(b - a >= duration(caps["any_survey_gap"]) for a, b in itertools.pairwise(stamps)), customer
        assert customer not in opted_out


def _drained(reader: TopicReader) -> bool:
    before = len(reader.records)
    return len(reader.poll()) == before


@pytest.fixture
def caps_settings(settings: Settings, topics: Settings) -> Settings:
    return settings.model_copy(update={"programs_file": PROGRAMS / "caps.yaml"})


def test_twenty_thousand_interactions_get_the_decisions_the_rules_say(caps_settings: Settings) -> None:
    run(caps_settings, kills=0)


def test_worker_killed_twice_mid_stream_still_decides_each_interaction_once_within_caps(
    caps_settings: Settings,
) -> None:
    run(caps_settings, kills=2)

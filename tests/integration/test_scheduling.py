"""Time on the real broker: deferred sends across a restart, one reminder, bursts, re-keying, bad program files."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agents.pipeline import partition_for
from cxloop.codec import Codec
from cxloop.model import Interaction
from cxloop.settings import Settings
from cxloop.surveys import survey_id
from cxloop.traffic import score_links
from tests.conftest import PROGRAMS
from tests.support import ROOT, Service, TopicReader, publish, publish_record, settings_env, wait_for


@pytest.fixture
def timed(settings: Settings, topics: Settings) -> Settings:
    return settings.model_copy(update={"programs_file": PROGRAMS / "scheduling.yaml"})


@pytest.fixture
def timed_worker(timed: Settings):
    service = Service("worker", timed, timed.data_dir.parent / "worker.log")
    service.wait_for_output("[^Worker]: Ready", timeout=120)
    yield service
    service.stop()


def contact(interaction_id: str, trigger: str = "call_end", customer: str = "cust-gail", **extra) -> Interaction:
    ended = datetime.now(timezone.utc).replace(microsecond=0)  # Avro timestamps carry milliseconds
    return Interaction(
        interaction_id=interaction_id, trigger=trigger, channel="voice", started_at=ended - timedelta(minutes=3),
        ended_at=ended, customer_id=customer, customer_email=f"{customer}@customers.example", agent_id="agent-hal",
        **extra,
    )


def test_deferred_invitation_survives_a_restart_and_goes_out_after_its_time(timed: Settings, timed_worker) -> None:
    call = contact("call-defer")
    publish_record(timed, "interaction-completed", call.customer_id, call.to_record())
    invitation = TopicReader(timed, "survey-invitation").wait_for(lambda i: i["interaction_id"] == "call-defer")[0]
    assert invitation["send_at"] >= call.ended_at + timedelta(seconds=8)
    email = timed.outbox / f"{invitation['survey_id']}.eml"
    timed_worker.stop()  # the worker goes down before the send time ...
    assert not email.exists()
    restarted = Service("worker", timed, timed.data_dir.parent / "worker.log")
    try:
        restarted.wait_for_output("[^Worker]: Ready", timeout=120)
        wait_for(email.exists, 60, what="the deferred email after the restart")  # ... and it still goes out
        sent_at = datetime.fromtimestamp(email.stat().st_mtime, timezone.utc)
        assert sent_at >= invitation["send_at"], "never before its send time"
    finally:
        restarted.stop()


def same_dispatch_partition(partitions: int) -> tuple[str, str]:
    """Two call ids whose surveys share a dispatch partition, so their reminders are handled in due order."""
    home = partition_for(survey_id("call-csat", "call-answered").encode(), partitions)
    silent = next(f"call-silent-{n}" for n in range(100)
                  if partition_for(survey_id("call-csat", f"call-silent-{n}").encode(), partitions) == home)
    return "call-answered", silent


def test_one_reminder_only_for_the_unanswered(timed: Settings, timed_worker, web) -> None:
    answered_id, silent_id = same_dispatch_partition(timed.topic_partitions)
    answered, silent = contact(answered_id, customer="cust-ian"), contact(silent_id, customer="cust-jo")
    for call in (answered, silent):  # the answered one first: its reminder falls due first
        publish_record(timed, "interaction-completed", call.customer_id, call.to_record())
    first = timed.outbox / f"{survey_id('call-csat', 'call-answered')}.eml"
    wait_for(first.exists, 60, what="the first survey email")
    _, links = score_links(first.read_bytes())
    with urllib.request.urlopen(links[5], timeout=30) as reply:
        assert reply.status == 200
    reminder = timed.outbox / f"{survey_id('call-csat', silent_id)}.reminder.eml"
    wait_for(reminder.exists, 60, what="the reminder for the unanswered survey")
    assert b"Reminder: " in reminder.read_bytes()
    # The answered survey's reminder fell due first on the same partition: it has been handled, and skipped.
    assert not (timed.outbox / f"{survey_id('call-csat', 'call-answered')}.reminder.eml").exists()


def test_a_burst_surveys_only_its_most_significant_interaction(timed: Settings, timed_worker) -> None:
    chat = contact("chat-burst", trigger="chat_end", customer="cust-kim", resolved=True)
    escalation = contact("esc-burst", trigger="escalation", customer="cust-kim")
    for event in (chat, escalation):
        publish_record(timed, "interaction-completed", event.customer_id, event.to_record())
    decisions = TopicReader(timed, "survey-decision").wait_for(lambda d: d["customer_id"] == "cust-kim", count=2)
    outcome = {d["interaction_id"]: (d["outcome"], d["detail"]) for d in decisions}
    assert outcome["esc-burst"][0] == "invited"
    assert outcome["chat-burst"] == ("frequency_capped", "burst arbitration chose esc-burst")


def test_interactions_keyed_by_something_else_are_rekeyed_by_customer(timed: Settings, timed_worker) -> None:
    calls = [contact(f"call-rekey-{n}", customer="cust-lee") for n in range(4)]
    codec = Codec()
    for call in calls:  # keyed by interaction id, as some ticketing systems do: lands on any partition
        value = codec.encode(call.contract, call.to_record())
        publish(timed, "interaction-completed", call.interaction_id.encode(), value)
    decisions = TopicReader(timed, "survey-decision")
    decided = decisions.wait_for(lambda d: d["customer_id"] == "cust-lee", count=4)
    assert {d["interaction_id"] for d in decided} == {c.interaction_id for c in calls}
    assert len({partition for partition, _, key in decisions.messages if key == b"cust-lee"}) == 1
    assert sorted(d["outcome"] for d in decided).count("invited") == 1, "one customer's burst: one survey"


@pytest.mark.parametrize(("content", "says"), [
    ("version: 1\nprograms:\n  - id: a\n    metric: nps\n    sampling: {rate: 2}\n",
     "line 5: programs[0].sampling.rate"),
    ("version: 1\nprograms: []\n", "programs"),
    ("programs:\n  - id: a\n    metric: stars\n", "line 3: programs[0].metric"),
])
def test_a_bad_program_file_stops_the_worker_at_start_naming_the_problem(settings: Settings, tmp_path: Path,
                                                                       content: str, says: str) -> None:
    bad = tmp_path / "programs.yaml"
    bad.write_text(content)
    env = settings_env(settings.model_copy(update={"programs_file": bad}))
    result = subprocess.run([sys.executable, "-m", "cxloop", "worker"], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert str(bad) in result.stderr and says in result.stderr

"""Bad input never stops the worker: it lands in dead-letter with its reason and bytes, the next event goes on."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cxloop.codec import Codec
from cxloop.model import Interaction
from cxloop.settings import Settings
from tests.support import TopicReader, publish, publish_record


def an_interaction(interaction_id: str) -> Interaction:
    ended = datetime.now(timezone.utc).replace(microsecond=0)
    return Interaction(
        interaction_id=interaction_id, trigger="chat_end", channel="chat", customer_id="cust-erin",
        started_at=ended - timedelta(minutes=4), ended_at=ended, customer_email="erin@customers.example",
        agent_id="agent-ben", team_id="team-north", contact_reason="delivery", resolved=True,
    )


def test_garbage_goes_to_dead_letter_and_the_valid_event_behind_it_is_processed(settings: Settings, worker) -> None:
    garbage = b"\x00\x01not avro at all \xff\xfe"
    key = b"cust-erin"  # same key: same partition, so the valid event is really behind the garbage
    publish(settings, "interaction-completed", key, garbage)
    ended_before_start = an_interaction("chat-bad").to_record() | {
        "ended_at": datetime(2020, 1, 1, tzinfo=timezone.utc)
    }
    publish(settings, "interaction-completed", key, Codec().encode("interaction-completed", ended_before_start))
    publish_record(settings, "interaction-completed", "cust-erin", an_interaction("chat-good").to_record())

    decisions = TopicReader(settings, "survey-decision")
    decision = decisions.wait_for(lambda d: d["interaction_id"] == "chat-good")[0]
    assert decision["outcome"] == "invited"

    dead = TopicReader(settings, "dead-letter")
    letters = dead.wait_for(lambda d: d["stage"] == "triggers", count=2)
    undecodable = next(d for d in letters if d["original_value"] == garbage)
    assert undecodable["error_type"] == "undecodable"
    assert undecodable["source_topic"] == settings.topic("interaction-completed")
    assert undecodable["original_key"] == key
    assert "schema id" in undecodable["reason"] or "magic" in undecodable["reason"] or "decode" in undecodable["reason"]
    invalid = next(d for d in letters if d is not undecodable)
    assert invalid["error_type"] == "invalid"
    assert "ended_at" in invalid["reason"]
    offsets = sorted(d["source_offset"] for d in letters)
    assert offsets == [offsets[0], offsets[0] + 1], "the two rejects are the two messages published first"
    assert [d["interaction_id"] for d in decisions.poll()] == ["chat-good"], "rejected events make no decision"
    decisions.close()
    dead.close()


def test_answer_for_an_unknown_survey_is_dead_lettered(settings: Settings, worker) -> None:
    answer = {"survey_id": "sv_doesnotexist", "score": 3, "source": "email_click",
              "responded_at": datetime.now(timezone.utc)}
    publish_record(settings, "survey-response", "sv_doesnotexist", answer)
    dead = TopicReader(settings, "dead-letter")
    letter = dead.wait_for(lambda d: d["stage"] == "responses")[0]
    assert letter["error_type"] == "unknown_survey"
    assert "sv_doesnotexist" in letter["reason"]
    assert Codec().decode("survey-response", letter["original_value"])["survey_id"] == "sv_doesnotexist"
    dead.close()

"""The one Avro codec: every contract round-trips, bad bytes and bad records are refused with the codec's errors."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cxloop.cases import FollowUp, on_alert
from cxloop.codec import (
    SCHEMAS_DIR,
    Codec,
    InvalidRecord,
    SchemaRegistry,
    UndecodableMessage,
    load_schema,
    local_schema_id,
)
from cxloop.deadletter import dead_letter_record
from cxloop.delivery_events import delivery_of
from cxloop.directory import Advocacy, Directory, Person
from cxloop.gateway_messages import outbound_message
from cxloop.model import (
    CaseEscalation,
    CaseEvent,
    CaseUpdate,
    ConsentChange,
    DetractorAlert,
    Interaction,
    Invitation,
    PromoterAdvocacy,
    Record,
    RollingAggregate,
    ScoredResponse,
    SurveyDecision,
    SurveyDelivery,
    SurveyOutbound,
    SurveyResponse,
)
from cxloop.surveys import alert_draft, score
from tests.unit.sample_records import DECIDED_AT, case_records, decide, interaction, invitation_for, response_to

SCORED_AT = DECIDED_AT + timedelta(hours=3)


def _decision() -> dict[str, Any]:
    record = decide(interaction(trigger="escalation")).decision.to_record()
    assert record["trigger"] == "escalation"
    return record


def _consent() -> dict[str, Any]:
    change = ConsentChange(customer_id="cust-00042", status="opted_out", changed_at=SCORED_AT,
                           reason="unsubscribe", source="survey-page")
    return change.to_record()


def _delivery() -> dict[str, Any]:
    delivery = delivery_of({"event": "bounce", "type": "bounce", "timestamp": 1700000000, "sg_event_id": "e-1",
                            "survey_id": "sv_1", "customer_id": "cust-00042", "reason": "550 no such user"})
    assert delivery is not None
    return delivery.to_record()


def _scored() -> dict[str, Any]:
    invitation = invitation_for("nps")
    scored = score(response_to(invitation, 2), invitation, SCORED_AT)
    return scored.to_record() | {"themes": ["billing", "transfers"]}


def _alert() -> dict[str, Any]:
    invitation = invitation_for("csat")
    alert = alert_draft(score(response_to(invitation, 1), invitation, SCORED_AT), invitation, SCORED_AT)
    assert alert is not None
    return alert.to_record() | {"themes": ["wait time"]}


def _outbound() -> dict[str, Any]:
    invitation = replace(invitation_for("nps"), delivery_channel="sms")
    return outbound_message(invitation, "invitation", company="Acme", now=SCORED_AT,
                            survey_url="https://survey.example/r/t").to_record()


def _advocacy() -> dict[str, Any]:
    invitation = invitation_for("nps")
    draft = alert_draft(score(response_to(invitation, 10, comment="brilliant"), invitation, SCORED_AT), invitation,
                        SCORED_AT)
    directory = Directory(people=(Person(id="head", name="Head"),), head="head", advocacy=Advocacy(ask="review"))
    advocacy = on_alert(FollowUp(), draft, directory, SCORED_AT).advocacy
    assert advocacy is not None
    return advocacy.to_record()


def _dead_letter() -> dict[str, Any]:
    return dead_letter_record(
        stage="triggers", exc=ValueError("ended_at is before started_at"), topic="acme.interaction-completed",
        partition=3, offset=2**40, key=b"cust-00042", value=b"\x00\x00\x00\x00\x07garbage", now=SCORED_AT,
    )


RECORDS: dict[str, Callable[[], dict[str, Any]]] = {
    "interaction-completed": lambda: interaction().to_record(),
    "survey-decision": _decision,
    "survey-invitation": lambda: invitation_for("ces").to_record(),
    "survey-response": lambda: response_to(invitation_for("nps"), 9).to_record(),
    "survey-scored": _scored,
    "detractor-alert": _alert,
    "dead-letter": _dead_letter,
    "customer-consent": _consent,
    "survey-delivery": _delivery,
    "survey-outbound": _outbound,
    "case-update": lambda: case_records(_alert())[0],
    "case-event": lambda: case_records(_alert())[1],
    "case-escalation": lambda: case_records(_alert())[2],
    "promoter-advocacy": _advocacy,
    "rolling-aggregate": lambda: RollingAggregate(
        window="1h", dimension="team", value="team-north", metric="nps", window_start=SCORED_AT,
        window_end=SCORED_AT + timedelta(hours=1), answers=12, detractors=3, passives=4, promoters=5, score_sum=88,
        updated_at=SCORED_AT).to_record(),
}
MODELS: dict[str, type[Record]] = {
    "interaction-completed": Interaction, "survey-decision": SurveyDecision, "survey-invitation": Invitation,
    "survey-response": SurveyResponse, "survey-scored": ScoredResponse, "detractor-alert": DetractorAlert,
    "customer-consent": ConsentChange, "survey-delivery": SurveyDelivery, "survey-outbound": SurveyOutbound,
    "case-update": CaseUpdate, "case-event": CaseEvent, "case-escalation": CaseEscalation,
    "promoter-advocacy": PromoterAdvocacy, "rolling-aggregate": RollingAggregate,
}
CONTRACTS = sorted(path.stem for path in SCHEMAS_DIR.glob("*.avsc"))


def test_every_contract_in_schemas_has_a_round_trip_case() -> None:
    assert sorted(RECORDS) == CONTRACTS


@pytest.mark.parametrize("contract", CONTRACTS)
def test_record_round_trips_through_the_wire_format(contract: str) -> None:
    codec = Codec()
    record = RECORDS[contract]()
    data = codec.encode(contract, record)
    assert data[0] == 0
    assert codec.decode(contract, data) == record


@pytest.mark.parametrize("contract", sorted(MODELS))
def test_decoded_record_rebuilds_the_same_model(contract: str) -> None:
    codec = Codec()
    model = MODELS[contract]
    original = model.from_record(RECORDS[contract]())
    assert model.from_record(codec.decode(contract, codec.encode(contract, original.to_record()))) == original


@pytest.mark.parametrize("contract", CONTRACTS)
def test_local_schema_id_is_stable_across_codec_instances(contract: str) -> None:
    record = RECORDS[contract]()
    first, second = Codec().encode(contract, record), Codec().encode(contract, record)
    assert first[:5] == second[:5]
    assert struct.unpack(">bI", first[:5])[1] == local_schema_id(load_schema(contract))
    assert Codec().decode(contract, first) == record


def test_each_contract_gets_its_own_schema_id() -> None:
    ids = {local_schema_id(load_schema(contract)) for contract in CONTRACTS}
    assert len(ids) == len(CONTRACTS)
    assert all(0 <= schema_id < 2**31 for schema_id in ids)


def test_schema_id_depends_on_the_schema_not_on_where_it_was_read(tmp_path: Path) -> None:
    copy = tmp_path / "survey-response.avsc"
    copy.write_text((SCHEMAS_DIR / "survey-response.avsc").read_text().replace("\n", " "))
    assert local_schema_id(load_schema("survey-response", tmp_path)) == local_schema_id(load_schema("survey-response"))


class _RegistryWith(SchemaRegistry):
    """A registry that knows one older writer schema, by id."""

    def __init__(self, schema_id: int, schema: Any) -> None:
        super().__init__("http://registry.invalid")
        self.schema_id, self.schema = schema_id, schema

    def register(self, subject: str, schema: Any) -> int:
        return local_schema_id(schema)

    def fetch(self, schema_id: int) -> Any:
        assert schema_id == self.schema_id
        return self.schema


def test_decision_written_before_the_trigger_field_existed_reads_with_an_empty_trigger(tmp_path: Path) -> None:
    current = json.loads((SCHEMAS_DIR / "survey-decision.avsc").read_text())
    older = current | {"fields": [f for f in current["fields"] if f["name"] != "trigger"]}
    (tmp_path / "survey-decision.avsc").write_text(json.dumps(older))
    old_writer = Codec(schemas_dir=tmp_path)
    old_record = {k: v for k, v in _decision().items() if k != "trigger"}
    data = old_writer.encode("survey-decision", old_record)
    schema_id = struct.unpack(">bI", data[:5])[1]
    reader = Codec(registry=_RegistryWith(schema_id, load_schema("survey-decision", tmp_path)))
    decoded = reader.decode("survey-decision", data)
    assert decoded == old_record | {"trigger": ""}
    assert SurveyDecision.from_record(decoded).trigger == ""


@pytest.mark.parametrize("status", ["opted_out", "opted_in"])
def test_consent_change_round_trips_for_either_status(status: str) -> None:
    record = _consent() | {"status": status}
    assert Codec().decode("customer-consent", Codec().encode("customer-consent", record)) == record


def _interaction_bytes() -> bytes:
    return Codec().encode("interaction-completed", interaction().to_record())


@pytest.mark.parametrize(
    "name, data",
    [
        ("empty", b""),
        ("none", None),
        ("shorter than the header", b"\x00\x00\x01"),
        ("garbage", b"hello, this is not avro at all"),
        ("wrong magic byte", b"\x01" + _interaction_bytes()[1:]),
        ("json", b'{"interaction_id": "x"}'),
        ("unknown schema id", b"\x00\x00\x00\x00\x01" + _interaction_bytes()[5:]),
        ("header only", _interaction_bytes()[:5]),
        ("truncated body", _interaction_bytes()[:20]),
        ("last byte missing", _interaction_bytes()[:-1]),
        ("right header, random body", _interaction_bytes()[:5] + bytes(range(200, 256))),
    ],
)
def test_bytes_that_are_not_a_message_of_the_contract_are_undecodable(name: str, data: bytes | None) -> None:
    with pytest.raises(UndecodableMessage):
        Codec().decode("interaction-completed", data)


def test_message_of_another_contract_is_undecodable() -> None:
    with pytest.raises(UndecodableMessage):
        Codec().decode("survey-response", _interaction_bytes())


def test_unknown_contract_name_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="survey-feedback"):
        Codec().encode("survey-feedback", {})


def _response(**changes: Any) -> dict[str, Any]:
    return RECORDS["survey-response"]() | changes


@pytest.mark.parametrize(
    "contract, record",
    [
        ("survey-response", _response(score="7")),
        ("survey-response", _response(reply_text=9)),
        ("survey-outbound", _outbound() | {"channel": "email"}),
        ("survey-response", _response(source="carrier_pigeon")),
        ("survey-response", _response(comment=5)),
        ("survey-response", _response(responded_at="yesterday")),
        ("survey-response", {k: v for k, v in _response().items() if k != "survey_id"}),
        ("interaction-completed", interaction().to_record() | {"trigger": "fax_received"}),
        ("interaction-completed", interaction().to_record() | {"first_contact_resolution": "no"}),
        # Values Avro would carry, but not as the contract's type: they must not slip through silently.
        ("survey-response", _response(score=7.5)),
        ("survey-response", _response(score=2**40)),  # an Avro int is 32 bits
        ("survey-response", _response(score=2**70)),
        ("interaction-completed", interaction().to_record() | {"resolved": "no"}),
        ("detractor-alert", _alert() | {"themes": "billing"}),
        ("customer-consent", _consent() | {"status": "unsubscribed"}),
        ("survey-decision", _decision() | {"outcome": "maybe_later"}),
    ],
    ids=[
        "score as text", "reply text as number", "outbound channel email", "source not in enum", "comment as number",
        "timestamp as text",
        "survey id absent", "trigger not in enum", "nullable boolean as text", "score as float",
        "score beyond 32 bits", "score beyond 64 bits", "boolean as text", "array as text",
        "consent status not in enum", "decision outcome not in enum",
    ],
)
def test_record_of_the_wrong_type_is_an_invalid_record(contract: str, record: dict[str, Any]) -> None:
    with pytest.raises(InvalidRecord):
        Codec().encode(contract, record)

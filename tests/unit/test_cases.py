"""Follow-up cases: routing, the state machine, SLA escalation levels, early updates, replays, chronic critics."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cxloop.cases import FollowUp, case_id_for, on_alert, on_due, on_update
from cxloop.directory import Advocacy, Directory, Person, Route, RouteMatch, Team, load_directory
from cxloop.model import CaseUpdate, DetractorAlert, InvalidEvent
from cxloop.notifications import owner_email, signature, verify_signature, webhook_body
from cxloop.programs import ProgramError

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
DIRECTORY = Directory(
    people=(Person(id="nora", name="Nora", webhook="http://127.0.0.1:9/nora"), Person(id="omar", name="Omar"),
            Person(id="hana", name="Hana", email="hana@company.example"), Person(id="bill", name="Billing desk")),
    teams=(Team(id="team-north", lead="nora", manager="omar"), Team(id="team-south", lead="hana")),
    head="hana",
    routes=(Route(match=RouteMatch(contact_reasons=("billing",), priorities=("normal",)), owner="bill"),
            Route(owner="team_lead")),
)


def alert(survey: str = "sv_a1", score: int = 2, at: datetime = T0, customer: str = "cust-1", **changes: object
          ) -> DetractorAlert:
    base = DetractorAlert(
        alert_id=survey, survey_id=survey, raised_at=at, priority="high" if score <= 3 else "normal", metric="nps",
        score=score, responded_at=at, customer_id=customer, interaction_id=f"int-{survey}",
        interaction_channel="voice", comment="nobody called back", agent_id="agent-ava", team_id="team-north",
        queue="voice-general", contact_reason="delivery",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def update(case_id: str, at: datetime, status: str | None = None, **fields: str) -> CaseUpdate:
    return CaseUpdate(case_id=case_id, customer_id="cust-1", actor="nora", updated_at=at, status=status, **fields)


@pytest.mark.parametrize("changes, owner", [
    ({}, "nora"),  # the team lead
    ({"team_id": "team-south"}, "hana"),
    ({"team_id": "team-west"}, "hana"),  # unknown team: team_lead resolves to no one, the head owns it
    ({"team_id": None}, "hana"),
    ({"contact_reason": "billing", "score": 5, "priority": "normal"}, "bill"),  # the first matching route
    ({"contact_reason": "billing", "score": 1}, "nora"),  # high priority skips the billing desk's route
])
def test_owner_is_chosen_by_the_first_route_that_resolves(changes: dict, owner: str) -> None:
    assert DIRECTORY.owner_for(dataclasses.asdict(alert(**changes))) == owner


def test_escalation_chain_is_owner_then_team_manager_then_head_without_repeats() -> None:
    assert DIRECTORY.chain("nora", "team-north") == ["nora", "omar", "hana"]
    assert DIRECTORY.chain("hana", "team-south") == ["hana"]
    assert DIRECTORY.chain("bill", None) == ["bill", "hana"]


def test_a_detractor_opens_one_case_due_at_the_sla_and_the_alert_carries_it() -> None:
    state = FollowUp()
    effects = on_alert(state, alert(), DIRECTORY, T0)
    assert [e.event for e in effects.events] == ["opened"]
    opened = effects.events[0]
    assert (opened.case_id, opened.owner_id, opened.status, opened.seq) == (case_id_for("sv_a1"), "nora", "open", 1)
    assert opened.due_at == T0 + timedelta(hours=24) == effects.wake_at
    assert effects.alert is not None
    assert (effects.alert.case_id, effects.alert.owner_id, effects.alert.due_at) == (opened.case_id, "nora",
                                                                                      opened.due_at)


def test_the_same_answer_again_re_raises_the_alert_but_changes_no_case() -> None:
    state = FollowUp()
    on_alert(state, alert(), DIRECTORY, T0)
    again = on_alert(state, alert(comment="and charged twice"), DIRECTORY, T0 + timedelta(minutes=1))
    assert again.events == [] and again.alert is not None and again.alert.comment == "and charged twice"
    assert again.alert.case_id == case_id_for("sv_a1")


def test_another_low_score_while_a_case_is_open_attaches_to_it() -> None:
    state = FollowUp()
    on_alert(state, alert(), DIRECTORY, T0)
    second = on_alert(state, alert("sv_a2", score=4, at=T0 + timedelta(hours=2)), DIRECTORY, T0 + timedelta(hours=2))
    assert [(e.event, e.case_id, e.seq, e.score) for e in second.events] == [
        ("attached", case_id_for("sv_a1"), 2, 4)]
    assert state.case is not None and state.case.surveys == ["sv_a1", "sv_a2"]
    assert second.alert is not None and second.alert.case_id == case_id_for("sv_a1")


def test_the_case_moves_forward_only_and_resolution_needs_outcome_and_root_cause() -> None:
    state = FollowUp()
    case_id = on_alert(state, alert(), DIRECTORY, T0).events[0].case_id
    assert [e.event for e in on_update(state, update(case_id, T0 + timedelta(hours=1), "contacted"), T0).events] \
        == ["contacted"]
    with pytest.raises(InvalidEvent, match="cannot go from contacted to acknowledged"):
        on_update(state, update(case_id, T0 + timedelta(hours=2), "acknowledged"), T0)
    with pytest.raises(InvalidEvent, match="outcome and root_cause"):
        on_update(state, update(case_id, T0 + timedelta(hours=2), "resolved", outcome="explained"), T0)
    note = on_update(state, update(case_id, T0 + timedelta(hours=2), note="left a voicemail"), T0)
    assert [(e.event, e.note) for e in note.events] == [("note", "left a voicemail")]
    done = on_update(state, update(case_id, T0 + timedelta(hours=3), "resolved", outcome="refund_issued",
                                   root_cause="process"), T0)
    assert [(e.event, e.status, e.outcome, e.root_cause) for e in done.events] == [
        ("resolved", "resolved", "refund_issued", "process")]
    assert state.case is None and done.wake_at is None
    with pytest.raises(InvalidEvent, match="already closed"):
        on_update(state, update(case_id, T0 + timedelta(hours=4), note="late"), T0)


def test_a_replayed_alert_after_the_case_closed_opens_no_second_case() -> None:
    state = FollowUp()
    case_id = on_alert(state, alert(), DIRECTORY, T0).events[0].case_id
    on_update(state, update(case_id, T0, "unreachable"), T0)
    replay = on_alert(state, alert(), DIRECTORY, T0 + timedelta(days=1))
    assert replay.events == [] and state.case is None
    assert replay.alert is not None and replay.alert.case_id == case_id and replay.alert.owner_id is None


def test_updates_before_their_case_are_applied_in_order_when_it_opens() -> None:
    state = FollowUp()
    case_id = case_id_for("sv_a1")
    for effects in (on_update(state, update(case_id, T0 + timedelta(minutes=2), "contacted"), T0),
                    on_update(state, update(case_id, T0 + timedelta(minutes=1), "acknowledged"), T0)):
        assert effects.events == []
    opened = on_alert(state, alert(), DIRECTORY, T0 + timedelta(minutes=3))
    assert [e.event for e in opened.events] == ["opened", "acknowledged", "contacted"]
    assert state.early == [] and opened.wake_at is None, "contacted: the SLA timer stops"


def test_a_bad_early_update_is_dropped_and_the_case_opens_anyway() -> None:
    state = FollowUp()
    on_update(state, update(case_id_for("sv_a1"), T0, "resolved"), T0)  # no outcome: invalid once applied
    opened = on_alert(state, alert(), DIRECTORY, T0 + timedelta(minutes=1))
    assert [e.event for e in opened.events] == ["opened"] and state.case is not None


def test_sla_escalates_level_by_level_then_stays_with_the_head() -> None:
    state = FollowUp()
    on_alert(state, alert(), DIRECTORY, T0)
    assert on_due(state, DIRECTORY, T0 + timedelta(hours=23)).escalations == [], "not before the due time"
    first = on_due(state, DIRECTORY, T0 + timedelta(hours=24, minutes=5))
    assert [(e.level, e.owner_id, e.previous_owner_id, e.overdue_seconds) for e in first.escalations] == [
        (1, "omar", "nora", 300)]
    assert first.wake_at == T0 + timedelta(hours=48, minutes=5)
    second = on_due(state, DIRECTORY, T0 + timedelta(hours=48, minutes=5))
    assert [(e.level, e.owner_id) for e in second.escalations] == [(2, "hana")]
    third = on_due(state, DIRECTORY, T0 + timedelta(hours=72, minutes=5))
    assert [(e.level, e.owner_id) for e in third.escalations] == [(2, "hana")]


def test_an_acknowledged_case_still_escalates_but_a_contacted_one_does_not() -> None:
    state = FollowUp()
    case_id = on_alert(state, alert(), DIRECTORY, T0).events[0].case_id
    on_update(state, update(case_id, T0 + timedelta(hours=1), "acknowledged"), T0)
    assert on_due(state, DIRECTORY, T0 + timedelta(hours=25)).escalations
    on_update(state, update(case_id, T0 + timedelta(hours=26), "contacted"), T0)
    assert on_due(state, DIRECTORY, T0 + timedelta(days=5)).escalations == []


def test_passives_open_a_low_priority_case_only_when_the_directory_says_so() -> None:
    passive = alert(score=7, category="passive", priority="normal")
    assert on_alert(FollowUp(), passive, DIRECTORY, T0).events == []
    lighter = DIRECTORY.model_copy(update={"passives": True})
    state = FollowUp()
    effects = on_alert(state, passive, lighter, T0)
    assert [(e.event, e.priority, e.due_at) for e in effects.events] == [("opened", "low", T0 + timedelta(hours=48))]
    assert effects.alert is None, "no detractor alert for a passive"


def test_three_detractors_in_a_row_flag_a_chronic_critic() -> None:
    state = FollowUp()
    flags = []
    for n, score in enumerate([2, 9, 1, 3, 0]):
        category = "detractor" if score <= 6 else "promoter"
        at = T0 + timedelta(days=n)
        effects = on_alert(state, alert(f"sv_{n}", score=score, at=at, category=category), DIRECTORY, at)
        flags.append(effects.alert.chronic_critic if effects.alert else None)
    assert flags == [False, None, False, False, True]


def test_state_survives_its_json_form() -> None:
    state = FollowUp()
    case_id = on_alert(state, alert(), DIRECTORY, T0).events[0].case_id
    on_update(state, update(case_id, T0 + timedelta(hours=1), "acknowledged"), T0)
    again = FollowUp.from_json(state.to_json())
    assert again == state


def test_webhook_body_is_slack_compatible_and_signed(tmp_path: Path) -> None:
    event = on_alert(FollowUp(), alert(), DIRECTORY, T0).events[0]
    body = webhook_body(event, DIRECTORY.person("nora"))
    header = signature(b"secret", body, 1_800_000_000)
    assert verify_signature(b"secret", body, header, 1_800_000_100)
    assert not verify_signature(b"secret", body + b" ", header, 1_800_000_100), "tampered body"
    assert not verify_signature(b"secret", body, header, 1_800_001_000), "replayed after 5 minutes"
    assert not verify_signature(b"other", body, header, 1_800_000_100)
    mail = owner_email(event, DIRECTORY.person("hana"))
    assert mail.to == "hana@company.example" and event.case_id in mail.subject and "nobody called back" in mail.text
    with pytest.raises(ValueError, match="no email"):
        owner_email(event, DIRECTORY.person("omar"))


def test_directory_file_errors_name_the_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text("version: 1\npeople:\n  - {id: nora, name: Nora}\nhead: nora\nteams:\n"
                    "  - {id: team-north, lead: nobody}\n")
    with pytest.raises(ProgramError, match=r"directory.yaml line 1: \(top\): Value error, teams\[team-north\].lead"):
        load_directory(path)
    path.write_text("version: 1\npeople:\n  - {id: nora, name: Nora}\nhead: nora\nsla: {detractor: soon}\n")
    with pytest.raises(ProgramError, match=r"line 5: sla.detractor: .*duration"):
        load_directory(path)


def test_shipped_directory_loads() -> None:
    directory = load_directory()
    assert directory.owner_for({"team_id": "anything"}) == directory.head


def test_promoters_are_asked_to_advocate_once_per_cap_and_never_with_a_case_open() -> None:
    asking = DIRECTORY.model_copy(update={"advocacy": Advocacy(ask="review", cap=timedelta(days=30))})

    def promoter(n: int, days: float) -> DetractorAlert:
        at = T0 + timedelta(days=days)
        return alert(f"sv_p{n}", score=10, at=at, category="promoter", priority="normal", comment="great")

    assert on_alert(FollowUp(), promoter(0, 0), DIRECTORY, T0).advocacy is None, "no ask configured: none"
    state = FollowUp()
    first = on_alert(state, promoter(1, 0), asking, T0).advocacy
    assert first is not None and (first.ask, first.survey_id, first.comment) == ("review", "sv_p1", "great")
    assert on_alert(state, promoter(1, 0), asking, T0 + timedelta(hours=1)).advocacy is None, "a replay asks no one"
    assert on_alert(state, promoter(2, 10), asking, T0 + timedelta(days=10)).advocacy is None, "within the cap"
    on_alert(state, alert("sv_low", score=2, at=T0 + timedelta(days=40)), asking, T0 + timedelta(days=40))
    assert on_alert(state, promoter(3, 41), asking, T0 + timedelta(days=41)).advocacy is None, "a case is open"
    case_id = state.case.case_id if state.case else ""
    on_update(state, update(case_id, T0 + timedelta(days=42), "unreachable"), T0)
    later = on_alert(state, promoter(4, 43), asking, T0 + timedelta(days=43)).advocacy
    assert later is not None and later.survey_id == "sv_p4"


def test_an_unknown_person_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="no person 'zed' in the directory"):
        DIRECTORY.person("zed")


def test_a_replayed_update_changes_nothing_before_or_after_the_case_closes() -> None:
    state = FollowUp()
    case_id = case_id_for("sv_a1")
    early = update(case_id, T0, "acknowledged", note="saw it, will call")
    on_update(state, early, T0)
    opened = on_alert(state, alert(), DIRECTORY, T0 + timedelta(minutes=1))
    assert [e.event for e in opened.events] == ["opened", "acknowledged"]
    assert on_update(state, early, T0).events == [], "the early update replayed after it was applied"
    done = update(case_id, T0 + timedelta(hours=2), "resolved", outcome="explained", root_cause="process")
    assert [e.event for e in on_update(state, done, T0).events] == ["resolved"]
    assert on_update(state, done, T0).events == [], "the resolution replayed after the case closed"

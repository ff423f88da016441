"""Follow-up figures from ClickHouse equal a computation done here from the plan of each case.

Cases are played through the real case rules, their events landed as fact rows in the ClickHouse engine (chdb, or a
server with CLICKHOUSE_URL), with later answers of the same customers; the figures per owner and per team are then
computed by `case_figures` (SQL + the definitions module) and, independently, from the plan below.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from cxloop.case_figures import case_figures, case_rows
from cxloop.cases import FollowUp, on_alert, on_due, on_update
from cxloop.directory import Directory, Person, Route, Team
from cxloop.facts import fact_row
from cxloop.model import CaseUpdate, DetractorAlert, ScoredResponse
from sinks.clickhouse import ClickHouse, table_columns

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(hours=30)
KEY = b"pseudonym-key"
DIRECTORY = Directory(
    people=tuple(Person(id=p, name=p.title()) for p in ("nora", "omar", "sam", "hana")),
    teams=(Team(id="team-north", lead="nora", manager="omar"), Team(id="team-south", lead="sam")),
    head="hana", routes=(Route(owner="team_lead"),),
)


@dataclass(frozen=True)
class Plan:
    customer: str
    team: str
    opened_h: float
    score: int
    steps: tuple[tuple[float, str], ...] = ()  # (hours after T0, status)
    outcome: tuple[str, str] | None = None  # outcome, root cause when resolved
    escalate_at_h: float | None = None  # the SLA timer fires then
    later_score: int | None = None  # the customer's next answer, five days on


PLANS = [
    Plan("cust-1", "team-north", 0, 2, ((2, "contacted"), (3, "resolved")), ("refund_issued", "process"),
         later_score=9),
    Plan("cust-2", "team-north", 0, 1, escalate_at_h=24.5),
    Plan("cust-3", "team-north", 1, 2, ((29, "contacted"), (29.5, "unreachable")), later_score=1),
    Plan("cust-4", "team-south", 29, 0),
    Plan("cust-5", "team-south", 0, 3, ((1, "acknowledged"), (4, "contacted"), (5, "resolved")),
         ("explained", "expectation_gap"), later_score=4),
    Plan("cust-6", "team-south", 2, 4, ((3, "acknowledged"),), escalate_at_h=26.5),
]


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def play(plan: Plan) -> list[dict]:
    """The case's events, as the cases agent would publish them."""
    state = FollowUp()
    sid = f"sv_{plan.customer}"
    alert = DetractorAlert(
        alert_id=sid, survey_id=sid, raised_at=at(plan.opened_h), priority="high", metric="nps", score=plan.score,
        responded_at=at(plan.opened_h), customer_id=plan.customer, interaction_id=f"int-{plan.customer}",
        interaction_channel="voice", team_id=plan.team, agent_id="agent-x",
    )
    events = on_alert(state, alert, DIRECTORY, at(plan.opened_h)).events
    timeline: list[tuple[float, str]] = sorted((*plan.steps, (plan.escalate_at_h, "due"))
                                               if plan.escalate_at_h else plan.steps)
    for hours, step in timeline:
        if step == "due":
            events += on_due(state, DIRECTORY, at(hours)).events
            continue
        outcome, cause = plan.outcome if step == "resolved" and plan.outcome else (None, None)
        update = CaseUpdate(case_id=events[0].case_id, customer_id=plan.customer, actor="someone",
                            updated_at=at(hours), status=step, outcome=outcome, root_cause=cause)
        events += on_update(state, update, at(hours)).events
    return [e.to_record() for e in events]


def later_answer(plan: Plan) -> dict:
    assert plan.later_score is not None
    when = at(plan.opened_h + 120)
    return ScoredResponse(
        survey_id=f"sv_{plan.customer}_later", program_id="call-nps", metric="nps", score=plan.later_score,
        category="promoter" if plan.later_score >= 9 else "detractor", source="web_form", responded_at=when,
        scored_at=when, interaction_id=f"int-{plan.customer}-later", customer_id=plan.customer,
        delivery_channel="email", interaction_channel="voice", trigger="call_end", handled_by="human",
        interaction_ended_at=when,
    ).to_record()


def expected(by: str) -> dict[str, dict]:
    """The figures from the plans alone: who owns each case now, what happened, when."""
    out: dict[str, dict] = {}
    for plan in PLANS:
        lead = {"team-north": "nora", "team-south": "sam"}[plan.team]
        owner = "omar" if plan.escalate_at_h and plan.team == "team-north" else (
            "hana" if plan.escalate_at_h else lead)
        group = out.setdefault(owner if by == "owner" else plan.team, {
            "cases": 0, "closed": 0, "hours": [], "met": 0, "breached": 0, "outcomes": Counter(),
            "causes": Counter(), "again": 0, "recovered": 0})
        group["cases"] += 1
        statuses = [s for _, s in plan.steps]
        group["closed"] += bool(set(statuses) & {"resolved", "unreachable"})
        contact = next((h for h, s in plan.steps if s in ("contacted", "resolved", "unreachable")), None)
        due_h = plan.opened_h + 24
        if contact is not None:
            group["hours"].append(contact - plan.opened_h)
            group["met" if contact <= due_h else "breached"] += 1
        elif at(due_h) < NOW:
            group["breached"] += 1
        if "resolved" in statuses and plan.outcome:
            group["outcomes"][plan.outcome[0]] += 1
            group["causes"][plan.outcome[1]] += 1
        if plan.later_score is not None:
            group["again"] += 1
            group["recovered"] += plan.later_score > plan.score
    return out


@pytest.fixture
def landed(clickhouse: ClickHouse) -> ClickHouse:
    def land(token: str) -> None:
        columns = table_columns(clickhouse, "case_events")
        rows = [fact_row(e, columns, KEY) for plan in PLANS for e in play(plan)]
        clickhouse.insert("case_events", rows, dedup_token=f"cases-{token}")
        scored = table_columns(clickhouse, "survey_scored")
        answers = [fact_row(later_answer(p), scored, KEY) for p in PLANS if p.later_score is not None]
        clickhouse.insert("survey_scored", answers, dedup_token=f"answers-{token}")

    land("first")
    land("replay")  # the same facts again, in another batch: the figures must not change
    return clickhouse


@pytest.mark.parametrize("by", ["owner", "team"])
def test_follow_up_figures_equal_an_independent_computation(landed: ClickHouse, by: str) -> None:
    rows = case_rows(landed)
    assert len(rows) == len(PLANS), "one row per case, replayed events collapsed"
    figures = {f.group: f.as_dict() for f in case_figures(rows, by, NOW)}
    want = expected(by)
    assert set(figures) == set(want)
    for group, w in want.items():
        got = figures[group]
        assert (got["cases"], got["closed"]) == (w["cases"], w["closed"]), group
        assert got["closure_rate"] == pytest.approx(w["closed"] / w["cases"]), group
        assert got["contacted"] == len(w["hours"]), group
        assert got["median_hours_to_contact"] == (pytest.approx(statistics.median(w["hours"])) if w["hours"]
                                                  else None), group
        assert (got["sla_met"], got["sla_breached"]) == (w["met"], w["breached"]), group
        judged = w["met"] + w["breached"]
        assert got["sla_compliance"] == (pytest.approx(w["met"] / judged) if judged else None), group
        assert got["outcomes"] == dict(w["outcomes"]) and got["root_causes"] == dict(w["causes"]), group
        assert (got["answered_again"], got["recovered"]) == (w["again"], w["recovered"]), group


def test_since_keeps_the_cases_opened_after_it(landed: ClickHouse) -> None:
    rows = case_rows(landed, since=at(1))
    assert sorted(r["case_id"] for r in rows) == sorted(
        f"cs_{p.customer}" for p in PLANS if p.opened_h >= 1)

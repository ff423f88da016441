"""Every figure of `cxloop report`, the dashboard's data endpoint and the minute rollups equals a computation done
here, from the generated facts themselves, for a dataset with known structure; a replay changes none of them.

The facts are landed as the lander lands them (fact rows, dedup tokens) in the ClickHouse engine: chdb, or a server
with CLICKHOUSE_URL. The expected figures are computed in plain Python with the textbook formulas written out below,
not with cxloop's code.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import statistics
import urllib.request
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from cxloop.dashboard import DashboardServer
from cxloop.facts import fact_row
from cxloop.model import Interaction, Invitation, ScoredResponse, SurveyDecision, SurveyDelivery
from cxloop.reports import render_report
from sinks.clickhouse import ClickHouse, table_columns

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
KEY = b"pseudonym-key"
Z = 1.959963984540054
TEAMS = {"team-north": ["ava", "ben", "cai"], "team-south": ["eli", "fay"], "team-east": ["hal"]}
METRIC_OF = {"voice": "nps", "chat": "csat", "email": "ces"}


def categorize(metric: str, score: int) -> str:
    low, mid = {"nps": (6, 8), "csat": (2, 3), "ces": (3, 4)}[metric]
    return "detractor" if score <= low else "passive" if score <= mid else "promoter"


def generate(seed: int = 11) -> dict[str, list[dict[str, Any]]]:
    """Interactions with planted structure: team-north answers high, team-east low; first-contact resolution and
    short handling raise the score; some surveys bounce, some are not sent yet, some answers get a comment later."""
    rng = random.Random(seed)
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i in range(600):
        channel = rng.choice(["voice", "voice", "chat", "email"])
        team = rng.choice(list(TEAMS))
        agent = f"agent-{rng.choice(TEAMS[team])}"
        fcr = rng.random() < 0.6
        handle = rng.randint(60, 1200)
        transfers = rng.choice([0, 0, 0, 1, 2])
        ended = NOW - timedelta(hours=rng.uniform(1, 40))
        iid = f"int-{i:04d}"
        interaction = Interaction(
            interaction_id=iid, trigger="call_end", channel=channel, started_at=ended - timedelta(seconds=handle),
            ended_at=ended, customer_id=f"cust-{i % 250:03d}", customer_email="x@customers.example", agent_id=agent,
            team_id=team, queue=f"{channel}-general", contact_reason=rng.choice(["billing", "delivery", "returns"]),
            handle_time_seconds=handle, wait_time_seconds=rng.randint(0, 300), transfers=transfers, resolved=fcr,
            first_contact_resolution=fcr,
        )
        out["interactions"].append(interaction.to_record())
        sampled = rng.random() < 0.7
        outcome = "invited" if sampled else "sampled_out"
        metric = METRIC_OF[channel]
        sid = f"sv_{i:04d}" if sampled else None
        out["survey_decisions"].append(SurveyDecision(
            interaction_id=iid, customer_id=interaction.customer_id, outcome=outcome, channel=channel,
            decided_at=ended, program_id=f"{metric}-program" if sampled else None, survey_id=sid, detail="",
            trigger="call_end").to_record())
        if sid is None:
            continue
        send_at = ended + timedelta(hours=rng.choice([0.1, 0.1, 0.1, 60]))  # some not due yet at NOW
        invitation = Invitation(
            survey_id=sid, program_id=f"{metric}-program", metric=metric, interaction_id=iid,
            customer_id=interaction.customer_id, delivery_channel="email", created_at=ended, send_at=send_at,
            expires_at=ended + timedelta(days=7), interaction_channel=channel, trigger="call_end",
            interaction_ended_at=ended, agent_id=agent, team_id=team, queue=f"{channel}-general",
            contact_reason=interaction.contact_reason, handle_time_seconds=handle, transfers=transfers, resolved=fcr,
        )
        out["survey_invitations"].append(invitation.to_record())
        if send_at > NOW:
            continue
        if rng.random() < 0.05:
            out["survey_delivery"].append(SurveyDelivery(
                survey_id=sid, event="bounce", provider="sendgrid", provider_event_id=f"ev-{i}",
                occurred_at=send_at, customer_id=interaction.customer_id).to_record())
            continue
        if rng.random() < 0.4:
            continue  # no answer
        low, high = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}[metric]
        mood = {"team-north": 0.8, "team-south": 0.6, "team-east": 0.35}[team] + (0.15 if fcr else -0.15)
        mood -= handle / 6000 + rng.gauss(0, 0.15)
        score = max(low, min(high, round(low + mood * (high - low))))
        at = send_at + timedelta(minutes=rng.uniform(1, 50))
        scored = ScoredResponse(
            survey_id=sid, program_id=f"{metric}-program", metric=metric, score=score,
            category=categorize(metric, score), source="email_click", responded_at=at, scored_at=at,
            interaction_id=iid, customer_id=interaction.customer_id, delivery_channel="email",
            interaction_channel=channel, trigger="call_end", handled_by="human", interaction_ended_at=ended,
            agent_id=agent, team_id=team, queue=f"{channel}-general", contact_reason=interaction.contact_reason,
            handle_time_seconds=handle, wait_time_seconds=interaction.wait_time_seconds, transfers=transfers,
            resolved=fcr, themes=["wait time"] if score <= low + 2 else [],
        )
        out["survey_scored"].append(scored.to_record())
        if rng.random() < 0.3:  # the comment arrives: a second version of the same answer
            out["survey_scored"].append(
                scored.to_record() | {"comment": "later words", "scored_at": at + timedelta(minutes=3)})
    return out


FACTS = generate()


def land(clickhouse: ClickHouse, token: str) -> None:
    for table, records in FACTS.items():
        columns = table_columns(clickhouse, table)
        rows = [fact_row(r, columns, KEY) for r in records]
        for n in range(0, len(rows), 97):  # batches, as the lander cuts them
            clickhouse.insert(table, rows[n:n + 97], dedup_token=f"{table}:{token}:{n}")


@pytest.fixture(scope="module")
def facts(clickhouse_engine: ClickHouse) -> ClickHouse:
    from sinks.clickhouse import migrate

    database = clickhouse_engine.using(f"figures_{random.Random().getrandbits(32):08x}")
    migrate(database)
    land(database, "first")
    land(database, "replay")  # the same facts again, cut the same way but under other tokens
    return database


def answers() -> list[dict[str, Any]]:
    """One answer per survey (a comment version does not count twice)."""
    return list({r["survey_id"]: r for r in FACTS["survey_scored"]}.values())


def textbook(metric: str, rows: list[dict[str, Any]]) -> dict[str, float]:
    """n, value, interval and mean by the formulas in the methodology notes, written out here."""
    n = len(rows)
    scores = [r["score"] for r in rows]
    if metric == "nps":
        p = sum(s >= 9 for s in scores)
        d = sum(s <= 6 for s in scores)
        value = 100 * (p - d) / n
        pa, da, na = (p + 0.75) / (n + 3), (d + 0.75) / (n + 3), n + 3
        centre = pa - da
        half = Z * math.sqrt((pa + da - centre**2) / na)
        low, high = 100 * max(-1, centre - half), 100 * min(1, centre + half)
    else:
        hits = sum(s >= (4 if metric == "csat" else 5) for s in scores)
        q = hits / n
        centre = (q + Z**2 / (2 * n)) / (1 + Z**2 / n)
        half = Z * math.sqrt(q * (1 - q) / n + Z**2 / (4 * n * n)) / (1 + Z**2 / n)
        value, low, high = 100 * q, 100 * (centre - half), 100 * (centre + half)
    return {"n": n, "value": value, "low": low, "high": high, "mean": statistics.fmean(scores)}


def expected_by(column: str | None) -> dict[tuple[str, str], dict[str, float]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in answers():
        groups[(r[column] if column else "all", r["metric"])].append(r)
    return {key: textbook(key[1], rows) for key, rows in groups.items()}


def assert_figures(got: list[dict[str, Any]], want: dict[tuple[str, str], dict[str, float]]) -> None:
    assert {(g["group"], g["metric"]) for g in got} == set(want)
    for g in got:
        w = want[(g["group"], g["metric"])]
        assert g["n"] == w["n"], g
        for name in ("value", "low", "high", "mean"):
            assert float(g[name]) == pytest.approx(w[name], abs=1e-6), (g["group"], g["metric"], name)
        assert g["low_n"] == (w["n"] < 30)


@pytest.mark.parametrize("by, column", [("agent", "agent_id"), ("team", "team_id"),
                                        ("channel", "interaction_channel"), ("contact_reason", "contact_reason")])
def test_report_json_and_csv_equal_the_textbook_figures(facts: ClickHouse, by: str, column: str) -> None:
    want = expected_by(column)
    assert_figures(json.loads(render_report(facts, by, None, "json")), want)
    rows = list(csv.DictReader(io.StringIO(render_report(facts, by, None, "csv"))))
    assert_figures([{**r, "n": int(r["n"]), "low_n": r["low_n"] == "True"} for r in rows], want)
    table = render_report(facts, by, None, "table")
    assert all(g in table for g, _ in want)


def test_report_ranks_on_the_lower_bound_within_each_metric(facts: ClickHouse) -> None:
    rows = json.loads(render_report(facts, "agent", None, "json"))
    for metric in ("nps", "csat", "ces"):
        lows = [r["low"] for r in rows if r["metric"] == metric]
        assert lows == sorted(lows, reverse=True)


def test_since_keeps_only_later_answers(facts: ClickHouse) -> None:
    since = NOW - timedelta(hours=12)
    got = json.loads(render_report(facts, "team", since, "json"))
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in answers():
        if r["responded_at"] >= since:
            groups[(r["team_id"], r["metric"])].append(r)
    assert_figures(got, {k: textbook(k[1], v) for k, v in groups.items()})


def test_dashboard_data_equals_the_textbook_figures(facts: ClickHouse, monkeypatch: pytest.MonkeyPatch) -> None:
    from cxloop import dashboard

    monkeypatch.setattr(dashboard, "SystemClock", lambda: type("Fixed", (), {"now": staticmethod(lambda: NOW)})())
    server = DashboardServer(facts, "127.0.0.1", 0).start()
    try:
        with urllib.request.urlopen(server.url + "/data?since=7d&bucket=1h", timeout=60) as reply:
            data = json.loads(reply.read())
        with urllib.request.urlopen(server.url, timeout=30) as reply:
            assert b"cxloop live" in reply.read()
        try:
            urllib.request.urlopen(server.url + "/data?since=soon", timeout=30)
            raise AssertionError("a bad since was accepted")
        except urllib.error.HTTPError as err:
            assert err.code == 400 and b"since" in err.read()
    finally:
        server.stop()
    assert_figures(data["headline"], expected_by(None))
    assert_figures(data["teams"], expected_by("team_id"))
    assert_figures(data["agents"], expected_by("agent_id"))

    # The funnel per channel, counted from the facts.
    bounced = {r["survey_id"] for r in FACTS["survey_delivery"]}
    for row in data["funnel"]:
        ch = row["channel"]
        invitations = [r for r in FACTS["survey_invitations"] if r["interaction_channel"] == ch]
        sent = [r for r in invitations if r["send_at"] <= NOW]
        assert row["interactions"] == sum(r["channel"] == ch for r in FACTS["interactions"])
        assert row["sampled"] == sum(r["channel"] == ch and r["outcome"] == "invited"
                                     for r in FACTS["survey_decisions"])
        assert row["delivered"] == len(sent) - sum(r["survey_id"] in bounced for r in sent)
        assert row["responded"] == sum(r["interaction_channel"] == ch for r in answers())
    assert {r["channel"] for r in data["funnel"]} == {"voice", "chat", "email"}

    # The trend: per hour bucket, the textbook figure of that hour's answers.
    for point in data["trend"]["nps"]:
        start = datetime.fromisoformat(point["group"])
        end = start + timedelta(hours=1)
        rows = [r for r in answers() if r["metric"] == "nps" and start <= r["responded_at"] < end]
        assert point["n"] == len(rows) and point["value"] == pytest.approx(textbook("nps", rows)["value"])

    # Correlations with the planted factors: the same Pearson r as statistics.correlation.
    for c in data["correlations"]:
        rows = [r for r in answers() if r["metric"] == c["metric"]]
        xs = [float(r["resolved"]) if c["factor"] == "first_contact_resolution" else float(r[c["factor"]])
              for r in rows]
        assert c["n"] == len(rows)
        assert c["r"] == pytest.approx(statistics.correlation([float(r["score"]) for r in rows], xs), abs=1e-9)
    fcr = {c["metric"]: c for c in data["correlations"] if c["factor"] == "first_contact_resolution"}
    assert fcr["nps"]["low"] > 0, "first-contact resolution was planted as a driver of the score"

    themes = {t["theme"]: t for t in data["themes"]}
    assert themes["wait time"]["n"] == sum("wait time" in r["themes"] for r in answers())


def test_minute_rollups_equal_the_facts_despite_comment_versions_and_replays(facts: ClickHouse) -> None:
    rows = facts.query(f"""
        SELECT team_id, metric, uniqExactMerge(answers) AS n, uniqExactIfMerge(promoters) AS promoters,
               uniqExactIfMerge(detractors) AS detractors, uniqExactIfMerge(top_box) AS top_box,
               arraySum(arrayMap(x -> toUInt32(x.2), groupUniqArrayMerge(score_points))) AS score_sum
        FROM {facts.database}.scores_by_minute GROUP BY team_id, metric
    """)
    assert rows
    for row in rows:
        mine = [r for r in answers() if r["team_id"] == row["team_id"] and r["metric"] == row["metric"]]
        top = sum(r["score"] >= (4 if r["metric"] == "csat" else 5) for r in mine) if row["metric"] != "nps" else 0
        assert (int(row["n"]), int(row["promoters"]), int(row["detractors"]), int(row["score_sum"])) == (
            len(mine), sum(categorize(r["metric"], r["score"]) == "promoter" for r in mine),
            sum(categorize(r["metric"], r["score"]) == "detractor" for r in mine), sum(r["score"] for r in mine))
        assert int(row["top_box"]) == top

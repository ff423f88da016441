"""The provisioned Grafana dashboards are valid, and every panel's SQL runs on the real schema and shows the figures
cxloop defines, without Grafana: the panel queries are expanded here as the grafana-clickhouse-datasource plugin
expands them, then run against a migrated ClickHouse database (chdb, or a server with CLICKHOUSE_URL) holding
generated facts landed twice (so a query without FINAL would count replays).

Macros, as the plugin (pkg/macros/macros.go) writes them, for exactly those the dashboards use:
  $__timeFilter(c)   -> c >= toDateTime(<from>) AND c <= toDateTime(<to>)
  $__timeInterval(c) -> toStartOfInterval(toDateTime(c), INTERVAL <interval seconds> second)
  $__toTime          -> toDateTime(<to>)
Any other `$__` macro, or a `$variable` the dashboard does not define, fails the test.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import statistics
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from cxloop import figures
from cxloop.case_figures import case_figures, case_rows
from cxloop.cases import FollowUp, on_alert, on_due, on_update
from cxloop.facts import fact_row
from cxloop.model import CaseEscalation, CaseUpdate, DetractorAlert
from cxloop.settings import Settings, load_settings
from sinks.clickhouse import ClickHouse, table_columns
from tests.integration.test_case_figures import DIRECTORY, PLANS, T0, Plan, later_answer
from tests.integration.test_case_figures import at as case_at
from tests.integration.test_figures import KEY, NOW, answers
from tests.integration.test_figures import land as land_facts

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
DASHBOARD_FILES = sorted((PROVISIONING / "dashboards").glob("*.json"))
DATASOURCE = {"type": "grafana-clickhouse-datasource", "uid": "cxloop-clickhouse"}
PANEL_TYPES = {"stat", "timeseries", "table", "barchart", "piechart", "bargauge", "gauge", "text", "row"}
# The time range each dashboard is read over. The overview's starts inside the generated answers (they span 40 h
# before NOW), so the lower bound has to filter; the follow-up's ends after some cases went past due.
RANGES = {
    "cxloop-overview": (NOW - timedelta(hours=20), NOW),
    "cxloop-follow-up": (T0 - timedelta(hours=1), T0 + timedelta(hours=60)),
}
DEFAULT_INTERVAL_S = 60  # Grafana's auto interval for a panel without a min interval (any value would do)
MACRO = re.compile(r"\$__(\w+)(?:\(([^()]*)\))?")
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
TABLE_REF = re.compile(r"\b(FROM|JOIN)\s+\$\{database\}\.(\w+)(\s+AS\s+\w+)?(\s+FINAL\b)?", re.IGNORECASE)
TOL = 1e-6


# ---------------------------------------------------------------- the dashboards as files


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def boards() -> dict[str, dict[str, Any]]:
    return {(b := load(p))["uid"]: b for p in DASHBOARD_FILES}


def queries(board: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            yield panel, target


def panel_by_title(board: dict[str, Any], start: str) -> dict[str, Any]:
    found = ([p for p in board["panels"] if p["title"] == start]
             or [p for p in board["panels"] if p["title"].startswith(start)])
    assert len(found) == 1, f"{board['uid']}: one panel titled {start!r}..., found {len(found)}"
    return found[0]


def replacing_tables() -> set[str]:
    """The ReplacingMergeTree tables of the DDL: a replayed fact collapses only when read with FINAL."""
    ddl = "\n".join(p.read_text() for p in sorted((ROOT / "schemas" / "clickhouse").glob("*.sql")))
    return set(re.findall(r"CREATE TABLE IF NOT EXISTS \{db\}\.(\w+)\s*\((?:[^;]*?)ENGINE = ReplacingMergeTree",
                          ddl))


def interval_seconds(panel: dict[str, Any]) -> int:
    """The panel's min interval ("1h"), which Grafana's auto interval never goes below."""
    text = panel.get("interval") or ""
    if not text:
        return DEFAULT_INTERVAL_S
    match = re.fullmatch(r"(\d+)([smhd])", text)
    assert match, f"panel {panel['title']!r}: unsupported interval {text!r}"
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def expand(sql: str, start: datetime, end: datetime, interval_s: int, variables: dict[str, str]) -> str:
    """The plugin's macros, then Grafana's variables; anything else left with a `$` is an error."""
    lo, hi = int(start.timestamp()), int(end.timestamp())

    def macro(match: re.Match[str]) -> str:
        name, arg = match.group(1), match.group(2)
        if name == "timeFilter" and arg and arg.strip():
            column = arg.strip()
            return f"{column} >= toDateTime({lo}) AND {column} <= toDateTime({hi})"
        if name == "timeInterval" and arg and arg.strip():
            return f"toStartOfInterval(toDateTime({arg.strip()}), INTERVAL {max(interval_s, 1)} second)"
        if name == "toTime" and arg is None:
            return f"toDateTime({hi})"
        raise AssertionError(f"unknown or malformed macro {match.group(0)!r}")

    def variable(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        assert name in variables, f"unknown variable ${name}"
        return variables[name]

    out = VARIABLE.sub(variable, MACRO.sub(macro, sql))
    assert "$" not in out and "[[" not in out, f"unexpanded text left in {out}"
    return out


def bindings(board: dict[str, Any], sql: str, database: str) -> list[dict[str, str]]:
    """Every combination of values of the dashboard variables the query uses; `database` is the test's own."""
    options: dict[str, list[str]] = {}
    for var in board["templating"]["list"]:
        if var["type"] == "constant":
            options[var["name"]] = [database if var["name"] == "database" else var["query"]]
        elif var["type"] == "custom":
            options[var["name"]] = [o["value"] for o in var["options"]]
        else:
            raise AssertionError(f"{board['uid']}: variable type {var['type']} has no expansion here")
    used = {m.group(1) or m.group(2) or m.group(3) for m in VARIABLE.finditer(MACRO.sub("", sql))}
    unknown = used - set(options)
    assert not unknown, f"{board['uid']}: undefined variable(s) {sorted(unknown)}"
    names = sorted(used)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(options[n] for n in names))]


def run(clickhouse: ClickHouse, board: dict[str, Any], panel: dict[str, Any], since: datetime | None = None,
        **variables: str) -> list[dict[str, Any]]:
    """One panel's first query, expanded for the board's test range (or from `since`), on `clickhouse`."""
    start, end = RANGES[board["uid"]]
    start = since or start
    sql = panel["targets"][0]["rawSql"]
    bound = {"database": clickhouse.database, **variables}
    return clickhouse.query(expand(sql, start, end, interval_seconds(panel), bound))


# ---------------------------------------------------------------- generated data


def play(plan: Plan) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The case's events and escalations, as the cases agent publishes them (the steps of test_case_figures)."""
    state = FollowUp()
    sid = f"sv_{plan.customer}"
    alert = DetractorAlert(
        alert_id=sid, survey_id=sid, raised_at=case_at(plan.opened_h), priority="high", metric="nps",
        score=plan.score, responded_at=case_at(plan.opened_h), customer_id=plan.customer,
        interaction_id=f"int-{plan.customer}", interaction_channel="voice", team_id=plan.team, agent_id="agent-x",
    )
    effects = [on_alert(state, alert, DIRECTORY, case_at(plan.opened_h))]
    steps = sorted([*plan.steps, *([(plan.escalate_at_h, "due")] if plan.escalate_at_h else [])])
    for hours, step in steps:
        if step == "due":
            effects.append(on_due(state, DIRECTORY, case_at(hours)))
            continue
        outcome, cause = plan.outcome if step == "resolved" and plan.outcome else (None, None)
        update = CaseUpdate(case_id=effects[0].events[0].case_id, customer_id=plan.customer, actor="someone",
                            updated_at=case_at(hours), status=step, outcome=outcome, root_cause=cause)
        effects.append(on_update(state, update, case_at(hours)))
    return ([e.to_record() for f in effects for e in f.events],
            [x.to_record() for f in effects for x in f.escalations])


def systemic_escalation() -> dict[str, Any]:
    return CaseEscalation(
        escalation_id="systemic:team=team-north:1", case_id="systemic:team=team-north", customer_id="",
        kind="systemic", level=0, owner_id="omar", previous_owner_id="", raised_at=case_at(10),
        due_at=case_at(34), overdue_seconds=0, team_id="team-north",
        detail="detractor share 60% in the last hour vs 20% before (z 4.1)",
    ).to_record()


def detractor_alerts() -> list[dict[str, Any]]:
    """An alert for every detractor answer of the generated facts."""
    return [DetractorAlert(
        alert_id=r["survey_id"], survey_id=r["survey_id"], raised_at=r["responded_at"],
        priority="high" if r["score"] <= {"nps": 3, "csat": 1, "ces": 1}[r["metric"]] else "normal",
        metric=r["metric"], score=r["score"], responded_at=r["responded_at"], customer_id=r["customer_id"],
        interaction_id=r["interaction_id"], interaction_channel=r["interaction_channel"], comment=r["comment"],
        themes=r["themes"], agent_id=r["agent_id"], team_id=r["team_id"], queue=r["queue"],
        contact_reason=r["contact_reason"], case_id=f"cs_{r['survey_id']}", owner_id="nora",
    ).to_record() for r in answers() if r["category"] == "detractor"]


def insert(clickhouse: ClickHouse, table: str, records: list[dict[str, Any]], token: str) -> None:
    columns = table_columns(clickhouse, table)
    clickhouse.insert(table, [fact_row(r, columns, KEY) for r in records], dedup_token=f"{table}:{token}")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Only ClickHouse is needed here: the `clickhouse` fixture's fresh database, without a Kafka broker."""
    return load_settings(data_dir=tmp_path / "data", clickhouse_database=f"grafana_{uuid.uuid4().hex[:10]}")


@pytest.fixture
def landed(clickhouse: ClickHouse) -> ClickHouse:
    """The facts of test_figures and the cases of test_case_figures (with their escalations, one systemic, and
    detractor alerts), each landed twice under other deduplication tokens, as a replay lands them."""
    played = [play(plan) for plan in PLANS]
    for token in ("first", "replay"):
        land_facts(clickhouse, token)
        insert(clickhouse, "detractor_alerts", detractor_alerts(), token)
        insert(clickhouse, "case_events", [e for events, _ in played for e in events], token)
        insert(clickhouse, "case_escalations",
               [x for _, escalations in played for x in escalations] + [systemic_escalation()], token)
        insert(clickhouse, "survey_scored", [later_answer(p) for p in PLANS if p.later_score is not None],
               f"later-{token}")
    return clickhouse


# ---------------------------------------------------------------- the files


def test_provisioning_files_are_valid_grafana_dashboards() -> None:
    assert {p.name for p in DASHBOARD_FILES} >= {"cxloop-overview.json", "cxloop-follow-up.json"}
    seen_uids: set[str] = set()
    for path in DASHBOARD_FILES:
        board = load(path)
        where = path.name
        assert isinstance(board.get("uid"), str) and re.fullmatch(r"[A-Za-z0-9_-]{1,40}", board["uid"]), where
        assert board["uid"] not in seen_uids, f"{where}: duplicate uid"
        seen_uids.add(board["uid"])
        assert board["uid"] in RANGES, f"{where}: give the dashboard a test time range in RANGES"
        assert isinstance(board.get("title"), str) and board["title"], where
        assert board.get("id") is None, f"{where}: provisioned dashboards carry no database id"
        assert isinstance(board.get("schemaVersion"), int) and board["schemaVersion"] >= 36, where
        assert set(board["time"]) == {"from", "to"}, where
        assert isinstance(board["templating"]["list"], list), where
        panels = board["panels"]
        assert panels, f"{where}: no panels"
        ids = [p["id"] for p in panels]
        assert all(isinstance(i, int) for i in ids) and len(ids) == len(set(ids)), f"{where}: panel ids {ids}"
        cells: set[tuple[int, int]] = set()
        for panel in panels:
            what = f"{where} panel {panel['id']} {panel.get('title')!r}"
            assert panel["type"] in PANEL_TYPES, what
            assert panel.get("title"), what
            grid = panel["gridPos"]
            assert all(isinstance(grid[k], int) for k in "hwxy"), what
            assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0, what
            mine = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                    for y in range(grid["y"], grid["y"] + grid["h"])}
            assert not cells & mine, f"{what} overlaps another panel"
            cells |= mine
            assert panel["datasource"] == DATASOURCE, what
            targets = panel["targets"]
            assert targets and len({t["refId"] for t in targets}) == len(targets), what
            for target in targets:
                assert target["datasource"] == DATASOURCE, what
                assert target["editorType"] == "sql" and target["format"] in (0, 1), what
                assert isinstance(target["rawSql"], str) and target["rawSql"].strip(), what
                assert (target["format"] == 0) == (panel["type"] == "timeseries"), f"{what}: time series format"


def test_every_query_reads_the_variable_database_and_replacing_tables_with_final() -> None:
    replacing = replacing_tables()
    assert {"interactions", "survey_scored", "case_events", "case_escalations", "survey_delivery"} <= replacing
    for board in boards().values():
        database = next(v for v in board["templating"]["list"] if v["name"] == "database")
        assert database["type"] == "constant" and database["query"] == "cxloop"
        for panel, target in queries(board):
            sql, what = target["rawSql"], f"{board['uid']} {panel['title']!r}"
            refs = TABLE_REF.findall(sql)
            assert refs, f"{what}: reads no ${{database}} table"
            for _, table, _, final in refs:
                if table in replacing:
                    assert final, f"{what}: {table} is a ReplacingMergeTree, read it with FINAL"
            assert not re.search(r"\bcxloop\.", sql), f"{what}: database hard-coded; use ${{database}}"
            assert not re.search(r"\b(FROM|JOIN)\s+(?!\$\{database\}\.)[a-z_]+\.", sql, re.IGNORECASE), what


def test_database_and_datasource_agree_with_docker_compose() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    source = yaml.safe_load((PROVISIONING / "datasources" / "clickhouse.yaml").read_text())["datasources"]
    assert [(d["uid"], d["type"]) for d in source] == [(DATASOURCE["uid"], DATASOURCE["type"])]
    database = source[0]["jsonData"]["defaultDatabase"]
    assert database == compose["services"]["sink"]["environment"]["CXLOOP_CLICKHOUSE_DATABASE"]
    assert database == compose["services"]["clickhouse"]["environment"]["CLICKHOUSE_DB"]
    for board in boards().values():
        assert next(v["query"] for v in board["templating"]["list"] if v["name"] == "database") == database
    grafana = compose["services"]["grafana"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (PROVISIONING / Path(home).relative_to("/etc/grafana/provisioning")).is_file()
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "cxloop.yaml").read_text())["providers"]
    assert [p["options"]["path"] for p in providers] == ["/etc/grafana/provisioning/dashboards"]


def test_the_expander_refuses_what_it_does_not_know() -> None:
    start, end = RANGES["cxloop-overview"]
    for sql in ("SELECT 1 WHERE $__timeFilter_ms(t)", "SELECT $__interval_s", "SELECT $__timeFilter()",
                "SELECT 1 FROM ${nowhere}.t", "SELECT $team"):
        with pytest.raises(AssertionError):
            expand(sql, start, end, 60, {"database": "db"})
    got = expand("SELECT $__timeInterval(t) FROM ${database}.x WHERE $__timeFilter(t) AND a <= $__toTime",
                 start, end, 3600, {"database": "db"})
    lo, hi = int(start.timestamp()), int(end.timestamp())
    assert got == (f"SELECT toStartOfInterval(toDateTime(t), INTERVAL 3600 second) FROM db.x WHERE "
                   f"t >= toDateTime({lo}) AND t <= toDateTime({hi}) AND a <= toDateTime({hi})")


# ---------------------------------------------------------------- the queries on ClickHouse


def test_every_panel_query_runs_and_returns_rows(landed: ClickHouse) -> None:
    ran = 0
    for board in boards().values():
        start, end = RANGES[board["uid"]]
        for panel, target in queries(board):
            for bound in bindings(board, target["rawSql"], landed.database):
                what = f"{board['uid']} {panel['title']!r} {bound}"
                sql = expand(target["rawSql"], start, end, interval_seconds(panel), bound)
                rows = landed.query(sql)
                assert rows, f"{what}: no rows"
                if target["format"] == 0:
                    assert next(iter(rows[0])) == "time", f"{what}: a time series starts with its time column"
                ran += 1
    assert ran >= 20


def close(got: Any, want: float) -> bool:
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None
    return got is not None and abs(float(got) - want) <= TOL


def assert_figure(row: dict[str, Any], fig: figures.Figure, value: str, what: str, mean: bool = True) -> None:
    assert row["n"] == fig.n, what
    for column, want in ((value, fig.value), ("95% CI low", fig.low), ("95% CI high", fig.high)):
        assert close(row[column], want), (what, column, row[column], want)
    if mean:
        mean_column = next(c for c in row if c.startswith("Mean"))
        assert close(row[mean_column], fig.mean), (what, "mean")


def test_overview_figures_equal_cxloop_figures(landed: ClickHouse) -> None:
    board = boards()["cxloop-overview"]
    start, end = RANGES["cxloop-overview"]
    headline = {f.metric: f for f in figures.score_figures(landed, since=start)}
    assert headline["nps"].n < len([r for r in answers() if r["metric"] == "nps"]), "the range must filter"

    # The stat panels: value, 95% interval and n.
    [nps] = run(landed, board, panel_by_title(board, "NPS"))
    assert_figure(nps, headline["nps"], "NPS", "NPS stat", mean=False)
    [csat] = run(landed, board, panel_by_title(board, "CSAT"))
    assert_figure(csat, headline["csat"], "CSAT top-2-box %", "CSAT stat")
    [ces] = run(landed, board, panel_by_title(board, "CES"))
    assert_figure(ces, headline["ces"], "CES % 5-7", "CES stat")

    # Team and agent tables, per metric: the figures of score_figures, in the order of ranked(); over the range,
    # and over all the answers (where some groups reach 30).
    flags = set()
    for since in (start, NOW - timedelta(days=3)):
        for by, title in (("team", "Teams"), ("agent", "Agents")):
            want = figures.ranked(figures.score_figures(landed, by=by, since=since))
            for metric in ("nps", "csat", "ces"):
                rows = run(landed, board, panel_by_title(board, title), since=since, metric=metric)
                mine = [f for f in want if f.metric == metric]
                label = by.title()
                assert [r[label] for r in rows] == [f.group for f in mine], (by, metric, since)
                for row, fig in zip(rows, mine, strict=True):
                    assert_figure(row, fig, "Value", f"{by} {fig.group} {metric} since {since}")
                    assert row["Low n"] == int(fig.low_n), (by, fig.group, metric, since)
                    flags.add(row["Low n"])
    assert flags == {0, 1}, "groups on both sides of the low-n line"

    # The NPS trend per hour (the panel's min interval), with its band.
    trend = run(landed, board, panel_by_title(board, "NPS trend"))
    want_trend = figures.trend(landed, "nps", timedelta(hours=1), since=start)
    assert len(trend) == len(want_trend) > 5
    for row, fig in zip(trend, want_trend, strict=True):
        assert datetime.fromisoformat(row["time"] + "+00:00") == datetime.fromisoformat(fig.group)
        assert row["Answers"] == fig.n
        for column, value in (("NPS", fig.value), ("95% CI low", fig.low), ("95% CI high", fig.high)):
            assert close(row[column], value), (fig.group, column)

    # The funnel per channel, as of the end of the range.
    funnel = {r["Channel"]: r for r in run(landed, board, panel_by_title(board, "Funnel"))}
    want_funnel = figures.funnel(landed, end, since=start)
    assert list(funnel) == [f["channel"] for f in want_funnel]
    for f in want_funnel:
        row = funnel[f["channel"]]
        assert (row["Interactions"], row["Sampled"], row["Delivered"], row["Responded"]) == (
            f["interactions"], f["sampled"], f["delivered"], f["responded"]), f["channel"]
        for column, key in (("Sample rate", "sample_rate"), ("Delivery rate", "delivery_rate"),
                            ("Response rate", "response_rate")):
            assert close(row[column], f[key]), (f["channel"], column)

    # Themes and correlations.
    themes = run(landed, board, panel_by_title(board, "Top themes"))
    assert [(r["Theme"], r["Answers"], r["Detractors"]) for r in themes] == [
        (t["theme"], t["n"], t["detractors"]) for t in figures.top_themes(landed, since=start)]
    got = {(r["Metric"], r["Factor"]): r for r in run(landed, board, panel_by_title(board, "What moves"))}
    want_corr = figures.correlations(landed, since=start)
    assert set(got) == {(c["metric"], c["factor"]) for c in want_corr}
    for c in want_corr:
        row = got[(c["metric"], c["factor"])]
        assert row["n"] == c["n"] and row["Low n"] == int(c["low_n"]), c
        for column, key in (("r", "r"), ("95% CI low", "low"), ("95% CI high", "high")):
            assert close(row[column], c[key]), (c["metric"], c["factor"], column)

    # Every answer counted once although every fact was landed twice.
    assert sum(r["answers"] for r in run(landed, board, panel_by_title(board, "Answers by metric"))) == len(
        [r for r in answers() if start <= r["responded_at"] <= end])
    alerts = run(landed, board, panel_by_title(board, "Latest detractor alerts"))
    assert len({r["Alert"] for r in alerts}) == len(alerts) == min(
        50, sum(r["category"] == "detractor" and r["responded_at"] >= start for r in answers()))


def test_follow_up_figures_equal_cxloop_case_figures(landed: ClickHouse) -> None:
    board = boards()["cxloop-follow-up"]
    _, end = RANGES["cxloop-follow-up"]
    rows = case_rows(landed)
    assert len(rows) == len(PLANS)
    for by, title in (("owner", "Cases per owner"), ("team", "Cases per team")):
        want = [f.as_dict() for f in case_figures(rows, by, end)]
        got = run(landed, board, panel_by_title(board, title))
        label = by.title()
        assert [r[label] for r in got] == [w["group"] for w in want], by
        for row, w in zip(got, want, strict=True):
            what = f"{by} {w['group']}"
            assert (row["Cases"], row["Closed"], row["Open"], row["Contacted"]) == (
                w["cases"], w["closed"], w["cases"] - w["closed"], w["contacted"]), what
            assert (row["sla_met"], row["sla_breached"]) == (w["sla_met"], w["sla_breached"]), what
            assert (row["Answered again"], row["Recovered"]) == (w["answered_again"], w["recovered"]), what
            for column, key in (("Closure rate", "closure_rate"), ("SLA compliance", "sla_compliance"),
                                ("Median hours to first contact", "median_hours_to_contact"),
                                ("Mean hours to first contact", "mean_hours_to_contact"),
                                ("Recovery rate", "recovery_rate")):
                assert close(row[column], w[key]), (what, column, row[column], w[key])
    assert any(r["sla_breached"] for r in got), "the range ends after some cases went past due"

    # The stat panel is the same figures over every case.
    [overall] = [f.as_dict() for f in case_figures([{**r, "team_id": "all"} for r in rows], "team", end)]
    [stat] = run(landed, board, panel_by_title(board, "Follow-up at a glance"))
    assert (stat["Cases"], stat["Open"]) == (overall["cases"], overall["cases"] - overall["closed"])
    for column, key in (("Closure rate", "closure_rate"), ("SLA compliance", "sla_compliance"),
                        ("Median hours to first contact", "median_hours_to_contact")):
        assert close(stat[column], overall[key]), column
    hours = [h for f in case_figures(rows, "team", end) for h in f.hours_to_contact]
    assert close(stat["Median hours to first contact"], statistics.median(hours))

    # Outcome and root-cause mix of the resolved cases.
    outcomes = Counter[str]()
    causes = Counter[str]()
    for f in case_figures(rows, "team", end):
        outcomes.update(f.outcomes)
        causes.update(f.root_causes)
    assert {r["Outcome"]: r["Cases"] for r in run(landed, board, panel_by_title(board, "Outcome mix"))} == outcomes
    assert {r["Root cause"]: r["Cases"] for r in run(landed, board, panel_by_title(board, "Root causes"))} == causes

    # Escalations over time, by kind: each sla escalation of the plans and the systemic one, once.
    series = run(landed, board, panel_by_title(board, "Escalations by kind"))
    kinds = Counter[str]()
    for r in series:
        kinds[r["kind"]] += r["escalations"]
    assert kinds == {"sla": sum(p.escalate_at_h is not None for p in PLANS), "systemic": 1}
    overdue = run(landed, board, panel_by_title(board, "Open cases past due"))
    assert overdue and all(r["Hours past due"] > 0 for r in overdue)

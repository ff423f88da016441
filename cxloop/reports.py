"""Headline figures read from ClickHouse, computed with the definitions in `cxloop.metrics`."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime

from cxloop import figures
from cxloop.facts import FACT_TABLES
from sinks.clickhouse import ClickHouse


@dataclass(frozen=True)
class MetricSummary:
    metric: str
    n: int
    headline: str  # e.g. "NPS +12.0 (95% CI -3.1..+26.4, n=48)"


def score_summary(clickhouse: ClickHouse) -> list[MetricSummary]:
    return [MetricSummary(f.metric, f.n, f.headline) for f in figures.score_figures(clickhouse)]


def decision_counts(clickhouse: ClickHouse) -> dict[str, int]:
    """Survey decisions by reason code: they add up to the interactions, the funnel's denominator."""
    rows = clickhouse.query(
        f"SELECT outcome, count() AS n FROM {clickhouse.database}.survey_decisions FINAL "
        "GROUP BY outcome ORDER BY n DESC"
    )
    return {row["outcome"]: int(row["n"]) for row in rows}


def fact_counts(clickhouse: ClickHouse) -> dict[str, int]:
    tables = list(FACT_TABLES.values())
    sql = " UNION ALL ".join(
        f"SELECT '{t}' AS t, count() AS n FROM {clickhouse.database}.{t} FINAL" for t in tables
    )
    counts = {row["t"]: int(row["n"]) for row in clickhouse.query(sql)}
    return {t: counts[t] for t in tables}


def render_report(clickhouse: ClickHouse, by: str, since: datetime | None, fmt: str) -> str:
    """`cxloop report`: NPS, CSAT and CES per group, ranked on the interval's lower bound, as table, json or csv."""
    rows = [f.as_dict() for f in figures.ranked(figures.score_figures(clickhouse, by, since))]
    if fmt == "json":
        return json.dumps(rows, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["group", "metric", "n", "value", "low", "high", "mean", "low_n"],
                                extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    lines = [f"{by:<20} {'metric':<6} {'n':>5}  figure"]
    lines += [f"{r['group']:<20} {r['metric']:<6} {r['n']:>5}  {r['headline']}{'  (low n)' if r['low_n'] else ''}"
              for r in rows]
    return "\n".join(lines)


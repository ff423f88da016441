"""Headline figures read from ClickHouse, computed with the definitions in `cxloop.metrics`."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


def render_drivers(reports: list[dict[str, Any]], fmt: str) -> str:
    """`cxloop drivers`: per metric, what to fix first (theme impacts) and the key drivers, as table or json."""
    if fmt == "json":
        return json.dumps(reports, indent=2)
    if not reports:
        return "no driver analysis yet: run `cxloop drivers --refresh` (the sink refreshes it on a schedule)"
    lines = []
    for report in reports:
        lines.append(f"{report['metric'].upper()} ({report['segment']}, n={report['n']}, "
                     f"computed {report['computed_at']})")
        lines.append("  what to fix first (points gained if the theme's unhappy answers were not):")
        for i in report["impacts"][:8]:
            lines.append(f"    {i['theme']:<20} {i['impact']:5.1f} pts (95% CI {i['impact_low']:.1f}.."
                         f"{i['impact_high']:.1f}), in {i['share']:.0f}% of answers")
        if report["drivers"]:
            lines.append(f"  key drivers (relative weights, R\u00b2 {report['r2']:.2f}):")
            for d in report["drivers"]:
                mark = "significant" if d["significant"] else "not significant"
                lines.append(f"    {d['name']:<28} {d['rescaled']:5.1f}% of R\u00b2  r={d['r']:+.2f}  {mark}")
        else:
            lines.append(f"  key drivers: {report.get('drivers_unavailable') or 'none'}")
    return "\n".join(lines)


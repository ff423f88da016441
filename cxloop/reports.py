"""Headline figures read from ClickHouse, computed with the definitions in `cxloop.metrics`."""

from __future__ import annotations

from dataclasses import dataclass

from cxloop import metrics
from cxloop.facts import FACT_TABLES
from sinks.clickhouse import ClickHouse


@dataclass(frozen=True)
class MetricSummary:
    metric: str
    n: int
    headline: str  # e.g. "NPS +12.0 (95% CI -3.1..+26.4, n=48)"


def score_summary(clickhouse: ClickHouse) -> list[MetricSummary]:
    rows = clickhouse.query(
        f"""
        SELECT metric,
               count() AS n,
               countIf(category = 'promoter') AS promoters,
               countIf(category = 'passive') AS passives,
               countIf(category = 'detractor') AS detractors,
               countIf(metric = 'csat' AND score >= 4 OR metric = 'ces' AND score >= 5) AS top_box,
               sum(score) AS score_sum
        FROM {clickhouse.database}.survey_scored FINAL
        GROUP BY metric ORDER BY metric
        """
    )
    summaries = []
    for row in rows:
        metric, n = row["metric"], int(row["n"])
        if metric == "nps":
            f = metrics.nps(int(row["promoters"]), int(row["passives"]), int(row["detractors"]))
            headline = f"NPS {f.nps:+.1f} (95% CI {f.low:+.1f}..{f.high:+.1f}, n={f.n})"
        else:
            s = metrics.share(int(row["top_box"]), n, float(row["score_sum"]))
            label = "CSAT top-2-box" if metric == "csat" else "CES % easy (5-7)"
            headline = f"{label} {s.share:.1f}% (95% CI {s.low:.1f}..{s.high:.1f}, mean {s.mean:.2f}, n={n})"
        summaries.append(MetricSummary(metric, n, headline))
    return summaries


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

"""The figures, defined once: the SQL that counts, and the arithmetic that turns counts into what CX teams read.

`cxloop report`, `cxloop summary`, the built-in dashboard and (through the same column meanings) the Grafana
panels use these. Every score comes with its n and 95% interval; groups with fewer than `LOW_N` answers are
flagged, and rankings use the interval's lower bound, so a 3-answer agent does not top a leaderboard by luck.

- NPS: % promoters (9-10) minus % detractors (0-6), adjusted-Wald interval. CSAT: % 4-5 (top-2-box) with a Wilson
  interval, and the mean. CES: % 5-7 ("made it easy") with a Wilson interval, and the mean.
- Funnel per channel: interactions → sampled (decided `invited` or `quiet_hours_deferred`) → delivered (sent, i.e.
  send time reached, minus those the provider reported bounced, dropped, blocked or failed) → responded.
- Correlation of scores with first-contact resolution, handle time, wait time and transfers: Pearson r with a 95%
  interval (Fisher z), per metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cxloop import metrics
from cxloop.clock import utc
from cxloop.scoring import SCALES
from sinks.clickhouse import ClickHouse

DIMENSIONS = {"agent": "agent_id", "team": "team_id", "channel": "interaction_channel",
              "contact_reason": "contact_reason", "program": "program_id", "queue": "queue"}
LOW_N = 30
UNDELIVERED = ("bounce", "dropped", "blocked", "failed")
FACTORS = {"first_contact_resolution": "toUInt8(ifNull(i.first_contact_resolution, s.resolved))",
           "handle_time_seconds": "s.handle_time_seconds", "wait_time_seconds": "s.wait_time_seconds",
           "transfers": "s.transfers"}


@dataclass(frozen=True)
class Figure:
    """One metric's headline for one group: value with interval, mean, n."""

    group: str
    metric: str
    n: int
    value: float  # NPS points, or percent (CSAT top-2-box, CES % easy)
    low: float
    high: float
    mean: float
    low_n: bool

    @property
    def label(self) -> str:
        return {"nps": "NPS", "csat": "CSAT top-2-box", "ces": "CES % easy (5-7)"}[self.metric]

    @property
    def short(self) -> str:
        if math.isnan(self.value):
            return f"{self.label} -"
        return f"NPS {self.value:+.1f}" if self.metric == "nps" else f"{self.label} {self.value:.1f}%"

    @property
    def headline(self) -> str:
        if self.metric == "nps":
            return f"NPS {self.value:+.1f} (95% CI {self.low:+.1f}..{self.high:+.1f}, n={self.n})"
        return (f"{self.label} {self.value:.1f}% (95% CI {self.low:.1f}..{self.high:.1f}, mean {self.mean:.2f}, "
                f"n={self.n})")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: an undefined number (no answers) is null."""
        return {"group": self.group, "metric": self.metric, "n": self.n, "value": _finite(self.value),
                "low": _finite(self.low), "high": _finite(self.high), "mean": _finite(self.mean),
                "low_n": self.low_n, "short": self.short, "headline": self.headline}


def since_clause(since: datetime | None, column: str = "responded_at") -> str:
    return f"WHERE {column} >= toDateTime64('{utc(since):%Y-%m-%d %H:%M:%S}', 3, 'UTC')" if since else ""


def figure(group: str, metric: str, counts: dict[str, Any]) -> Figure:
    """Counts (n, promoters, passives, detractors, top_box, score_sum) -> the metric's headline figure."""
    n = int(counts["n"])
    mean = float(counts["score_sum"]) / n if n else math.nan
    if metric == "nps":
        f = metrics.nps(int(counts["promoters"]), int(counts["passives"]), int(counts["detractors"]))
        return Figure(group, metric, n, f.nps, f.low, f.high, mean, n < LOW_N)
    s = metrics.share(int(counts["top_box"]), n, float(counts["score_sum"]))
    return Figure(group, metric, n, s.share, s.low, s.high, mean, n < LOW_N)


COUNTS = """count() AS n,
           countIf(category = 'promoter') AS promoters,
           countIf(category = 'passive') AS passives,
           countIf(category = 'detractor') AS detractors,
           countIf(metric = 'csat' AND score >= 4 OR metric = 'ces' AND score >= 5) AS top_box,
           sum(score) AS score_sum"""


def score_figures(clickhouse: ClickHouse, by: str | None = None, since: datetime | None = None) -> list[Figure]:
    """Per metric, and per group of `by` (agent, team, channel, contact_reason, program, queue) when given."""
    group = f"ifNull(toString({DIMENSIONS[by]}), '(none)')" if by else "'all'"
    rows = clickhouse.query(f"""
        SELECT {group} AS grp, metric, {COUNTS}
        FROM {clickhouse.database}.survey_scored FINAL {since_clause(since)}
        GROUP BY grp, metric ORDER BY metric, grp
    """)
    return [figure(row["grp"], row["metric"], row) for row in rows]


def ranked(figures: list[Figure]) -> list[Figure]:
    """Best first by the interval's lower bound (not the point estimate), per metric."""
    return sorted(figures, key=lambda f: (f.metric, -(f.low if not math.isnan(f.low) else -math.inf), f.group))


def trend(clickhouse: ClickHouse, metric: str, bucket: timedelta, since: datetime | None = None) -> list[Figure]:
    """The metric per time bucket (the group is the bucket's start, ISO)."""
    seconds = int(bucket.total_seconds())
    where = since_clause(since)
    where = f"{where} AND metric = '{metric}'" if where else f"WHERE metric = '{metric}'"
    rows = clickhouse.query(f"""
        SELECT toStartOfInterval(responded_at, INTERVAL {seconds} SECOND) AS bucket, {COUNTS}
        FROM {clickhouse.database}.survey_scored FINAL {where}
        GROUP BY bucket ORDER BY bucket
    """)
    return [figure(_iso(row["bucket"]), metric, row) for row in rows]


def funnel(clickhouse: ClickHouse, now: datetime, since: datetime | None = None) -> list[dict[str, Any]]:
    """Per interaction channel: interactions, sampled, delivered, responded, and the rates between them."""
    db = clickhouse.database
    at = f"toDateTime64('{utc(now):%Y-%m-%d %H:%M:%S.%f}', 3, 'UTC')"
    rows = clickhouse.query(f"""
        SELECT channel,
               sum(interactions) AS interactions, sum(sampled) AS sampled, sum(sent) AS sent,
               sum(undelivered) AS undelivered, sum(responded) AS responded
        FROM (
            SELECT channel, count() AS interactions, 0 AS sampled, 0 AS sent, 0 AS undelivered, 0 AS responded
            FROM {db}.interactions FINAL {since_clause(since, 'ended_at')} GROUP BY channel
            UNION ALL
            SELECT channel, 0, countIf(outcome IN ('invited', 'quiet_hours_deferred')), 0, 0, 0
            FROM {db}.survey_decisions FINAL {since_clause(since, 'decided_at')} GROUP BY channel
            UNION ALL
            SELECT interaction_channel, 0, 0, countIf(send_at <= {at}),
                   countIf(send_at <= {at} AND survey_id IN (SELECT survey_id FROM {db}.survey_delivery FINAL
                                                            WHERE event IN {UNDELIVERED})), 0
            FROM {db}.survey_invitations FINAL {since_clause(since, 'created_at')} GROUP BY interaction_channel
            UNION ALL
            SELECT interaction_channel, 0, 0, 0, 0, count()
            FROM {db}.survey_scored FINAL {since_clause(since)} GROUP BY interaction_channel
        )
        GROUP BY channel ORDER BY interactions DESC, channel
    """)
    out = []
    for row in rows:
        interactions, sampled, responded = int(row["interactions"]), int(row["sampled"]), int(row["responded"])
        delivered = int(row["sent"]) - int(row["undelivered"])
        out.append({
            "channel": row["channel"], "interactions": interactions, "sampled": sampled, "delivered": delivered,
            "responded": responded, "sample_rate": _rate(sampled, interactions),
            "delivery_rate": _rate(delivered, sampled), "response_rate": _rate(responded, delivered),
        })
    return out


def correlations(clickhouse: ClickHouse, since: datetime | None = None) -> list[dict[str, Any]]:
    """Pearson r of the score (on its own scale) with each operational factor, per metric, with a 95% interval."""
    db = clickhouse.database
    factors = ",\n".join(
        f"corr(toFloat64(s.score), toFloat64({sql})) AS r_{name}" for name, sql in FACTORS.items())
    where = since_clause(since, "s.responded_at")
    rows = clickhouse.query(f"""
        SELECT s.metric AS metric, count() AS n, {factors}
        FROM {db}.survey_scored AS s FINAL
        LEFT JOIN (SELECT interaction_id, first_contact_resolution FROM {db}.interactions FINAL) AS i
            ON i.interaction_id = s.interaction_id
        {where}
        GROUP BY s.metric ORDER BY s.metric
    """)
    out = []
    for row in rows:
        n = int(row["n"])
        for name in FACTORS:
            r = _number(row[f"r_{name}"])
            low, high = pearson_interval(r, n)
            out.append({"metric": row["metric"], "factor": name, "n": n, "r": r, "low": low, "high": high,
                        "low_n": n < LOW_N})
    return out


def pearson_interval(r: float, n: int) -> tuple[float, float]:
    """95% interval of a Pearson r by Fisher's z; NaN when it is undefined (n ≤ 3, or r is NaN or ±1)."""
    if n <= 3 or math.isnan(r) or abs(r) >= 1:
        return math.nan, math.nan
    z = math.atanh(r)
    half = metrics.Z95 / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)


def top_themes(clickhouse: ClickHouse, since: datetime | None = None, limit: int = 10) -> list[dict[str, Any]]:
    rows = clickhouse.query(f"""
        SELECT theme, count() AS n, countIf(category = 'detractor') AS detractors
        FROM {clickhouse.database}.survey_scored FINAL ARRAY JOIN themes AS theme {since_clause(since)}
        GROUP BY theme ORDER BY n DESC, theme LIMIT {int(limit)}
    """)
    return [{"theme": r["theme"], "n": int(r["n"]), "detractors": int(r["detractors"])} for r in rows]


def scale_of(metric: str) -> tuple[int, int]:
    scale = SCALES[metric]  # type: ignore[index]
    return scale.low, scale.high


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _iso(value: Any) -> str:
    return utc(datetime.fromisoformat(value) if isinstance(value, str) else value).isoformat()

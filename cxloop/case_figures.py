"""Follow-up figures per owner or team, from the case-event log and the scores in ClickHouse.

Definitions (one place; `cxloop cases` and the dashboard use them):

- cases: cases opened; closed: their last status is resolved or unreachable; closure rate = closed / cases.
- time to first contact: from opening to the first contacted, resolved or unreachable step (median and mean hours).
- SLA compliance: first contact by the case's first due time; a case past that due time and not contacted counts as
  a breach, one not yet due counts nowhere. Share of compliant among compliant + breached.
- outcome mix and root causes: of resolved cases.
- recovered customers: of the cases whose customer answered again (same metric) after the case opened, those
  whose later score is higher than the one that opened it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cxloop.clock import utc
from sinks.clickhouse import ClickHouse

GROUPS = {"owner": "owner_id", "team": "team_id"}


@dataclass
class CaseFigures:
    group: str
    cases: int = 0
    closed: int = 0
    contacted: int = 0
    hours_to_contact: list[float] = field(default_factory=list, repr=False)
    sla_met: int = 0
    sla_breached: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    root_causes: Counter[str] = field(default_factory=Counter)
    answered_again: int = 0
    recovered: int = 0

    @property
    def closure_rate(self) -> float | None:
        return self.closed / self.cases if self.cases else None

    @property
    def sla_compliance(self) -> float | None:
        judged = self.sla_met + self.sla_breached
        return self.sla_met / judged if judged else None

    @property
    def recovery_rate(self) -> float | None:
        return self.recovered / self.answered_again if self.answered_again else None

    def as_dict(self) -> dict[str, Any]:
        hours = self.hours_to_contact
        return {
            "group": self.group, "cases": self.cases, "closed": self.closed, "closure_rate": self.closure_rate,
            "contacted": self.contacted,
            "median_hours_to_contact": statistics.median(hours) if hours else None,
            "mean_hours_to_contact": statistics.fmean(hours) if hours else None,
            "sla_met": self.sla_met, "sla_breached": self.sla_breached, "sla_compliance": self.sla_compliance,
            "outcomes": dict(self.outcomes), "root_causes": dict(self.root_causes),
            "answered_again": self.answered_again, "recovered": self.recovered, "recovery_rate": self.recovery_rate,
        }


def case_rows(clickhouse: ClickHouse, since: datetime | None = None) -> list[dict[str, Any]]:
    """One row per case (opened since `since`, when given): its state now, first contact, first due time, and
    whether its customer answered again."""
    db = clickhouse.database
    opened = f"HAVING opened_at >= toDateTime64('{utc(since):%Y-%m-%d %H:%M:%S}', 3, 'UTC')" if since else ""
    return clickhouse.query(f"""
        WITH cases AS (
            SELECT case_id,
                   argMax(owner_id, seq) AS owner_id,
                   any(team_id) AS team_id,
                   argMax(status, seq) AS status,
                   any(opened_at) AS opened_at,
                   argMin(due_at, seq) AS first_due_at,
                   countIf(event IN ('contacted', 'resolved', 'unreachable')) AS contacts,
                   minIf(at, event IN ('contacted', 'resolved', 'unreachable')) AS first_contact_at,
                   argMaxIf(outcome, seq, event = 'resolved') AS outcome,
                   argMaxIf(root_cause, seq, event = 'resolved') AS root_cause,
                   any(customer_key) AS customer_key,
                   any(metric) AS metric,
                   argMin(score, seq) AS opening_score
            FROM {db}.case_events FINAL
            GROUP BY case_id
            {opened}
        ),
        answers AS (
            SELECT customer_key, metric, groupArray((responded_at, score)) AS scores
            FROM {db}.survey_scored FINAL
            GROUP BY customer_key, metric
        )
        SELECT c.*,
               arrayExists(x -> x.1 > c.opened_at, a.scores) AS answered_again,
               arrayExists(x -> x.1 > c.opened_at AND x.2 > c.opening_score, a.scores) AS recovered
        FROM cases AS c
        LEFT JOIN answers AS a ON a.customer_key = c.customer_key AND a.metric = c.metric
        ORDER BY c.case_id
    """)


def case_figures(rows: list[dict[str, Any]], by: str, now: datetime) -> list[CaseFigures]:
    """Aggregate `case_rows` per owner or team (the current owner: who has the case now)."""
    column = GROUPS[by]
    groups: dict[str, CaseFigures] = {}
    for row in rows:
        name = row[column] or "(none)"
        figures = groups.setdefault(name, CaseFigures(name))
        figures.cases += 1
        figures.closed += row["status"] in ("resolved", "unreachable")
        first_due = _utc(row["first_due_at"])
        if int(row["contacts"]):
            contact = _utc(row["first_contact_at"])
            figures.contacted += 1
            figures.hours_to_contact.append((contact - _utc(row["opened_at"])).total_seconds() / 3600)
            if contact <= first_due:
                figures.sla_met += 1
            else:
                figures.sla_breached += 1
        elif now > first_due:
            figures.sla_breached += 1
        if row["status"] == "resolved":
            figures.outcomes[row["outcome"] or "(none)"] += 1
            figures.root_causes[row["root_cause"] or "(none)"] += 1
        figures.answered_again += bool(int(row["answered_again"]))
        figures.recovered += bool(int(row["recovered"]))
    return sorted(groups.values(), key=lambda f: (-f.cases, f.group))


def _utc(value: datetime | str) -> datetime:
    """ClickHouse servers give datetimes, chdb's JSON gives text."""
    return utc(datetime.fromisoformat(value) if isinstance(value, str) else value)

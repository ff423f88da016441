"""A customer's survey history and the rules that protect them from survey fatigue.

`CustomerState` is what the triggers stage keeps per customer identity (across channels and programs): the surveys
they were sent, the interactions already decided (so a replay repeats its decision instead of making a new one),
their consent and whether a complaint is open. Pure data with a compact JSON form; no Kafka here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cxloop.clock import epoch_ms, from_epoch_ms
from cxloop.programs import FrequencyCaps, Program, Sampling


def _ms(value: datetime | None) -> int | None:
    return None if value is None else epoch_ms(value)


def _dt(value: int | None) -> datetime | None:
    return None if value is None else from_epoch_ms(value)


@dataclass
class SurveyMark:
    """One survey sent to the customer. `triggered_at` is the event time of the interaction that triggered it."""

    survey_id: str
    program_id: str
    kind: str
    triggered_at: datetime
    answered_at: datetime | None = None

    def clock(self, starts: str) -> datetime | None:
        return self.triggered_at if starts == "invited" else self.answered_at


@dataclass
class StoredDecision:
    """Enough to repeat a decision exactly when its interaction is replayed."""

    outcome: str
    program_id: str | None
    survey_id: str | None
    decided_at: datetime
    send_at: datetime | None
    detail: str


@dataclass
class CustomerState:
    surveys: list[SurveyMark] = field(default_factory=list)
    decided: dict[str, StoredDecision] = field(default_factory=dict)  # "<interaction id>|<trigger>" -> decision
    decided_at_event: dict[str, datetime] = field(default_factory=dict)  # same keys -> event time, for pruning
    opted_out_at: datetime | None = None
    opt_out_reason: str | None = None
    complaint_open_since: datetime | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)  # interactions waiting for burst arbitration

    def to_json(self) -> bytes:
        return json.dumps({
            "s": [[m.survey_id, m.program_id, m.kind, _ms(m.triggered_at), _ms(m.answered_at)] for m in self.surveys],
            "d": {k: [d.outcome, d.program_id, d.survey_id, _ms(d.decided_at), _ms(d.send_at), d.detail,
                      _ms(self.decided_at_event.get(k))] for k, d in self.decided.items()},
            "o": [_ms(self.opted_out_at), self.opt_out_reason],
            "c": _ms(self.complaint_open_since),
            "p": self.pending,
        }, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes | None) -> CustomerState:
        if not data:
            return cls()
        raw = json.loads(data)
        state = cls(
            surveys=[SurveyMark(s, p, k, _dt(t), _dt(a)) for s, p, k, t, a in raw["s"]],  # type: ignore[arg-type]
            opted_out_at=_dt(raw["o"][0]), opt_out_reason=raw["o"][1], complaint_open_since=_dt(raw["c"]),
            pending=raw["p"],
        )
        for key, (outcome, program, survey, decided, send, detail, event) in raw["d"].items():
            state.decided[key] = StoredDecision(outcome, program, survey, _dt(decided), _dt(send), detail)  # type: ignore[arg-type]
            state.decided_at_event[key] = _dt(event)  # type: ignore[assignment]
        return state

    def forget_before(self, survey_horizon: datetime, decision_horizon: datetime) -> None:
        """Drop history no cap or replay check can need any more, so state stays small."""
        self.surveys = [m for m in self.surveys if max(m.triggered_at, m.answered_at or m.triggered_at)
                        >= survey_horizon]
        for key in [k for k, t in self.decided_at_event.items() if t < decision_horizon]:
            del self.decided[key]
            del self.decided_at_event[key]

    def mark_answered(self, survey_id: str, answered_at: datetime) -> bool:
        for mark in self.surveys:
            if mark.survey_id == survey_id and mark.answered_at is None:
                mark.answered_at = answered_at
                return True
        return False


def sample_point(program_id: str, interaction_id: str) -> float:
    """A reproducible uniform draw in [0, 1) per program and interaction: the same interaction is always in or out."""
    digest = hashlib.sha256(f"sample\x00{program_id}\x00{interaction_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def adaptive_rate(sampling: Sampling, weekly_volume: float) -> float:
    """The rate that yields `target` responses a week from an agent handling `weekly_volume` matching contacts."""
    if sampling.mode == "rate":
        return sampling.rate
    assert sampling.target_responses_per_agent_week is not None
    needed_invitations = sampling.target_responses_per_agent_week / sampling.expected_response_rate
    if weekly_volume <= needed_invitations:
        return 1.0
    return max(sampling.min_rate, needed_invitations / weekly_volume)


def cap_violation(
    state: CustomerState, program: Program, caps: FrequencyCaps, at: datetime
) -> str | None:
    """Why a survey of `program` triggered at `at` would break a cap, or None. Relationship surveys only yield to
    other relationship surveys on the customer-wide caps: they win over transactional ones."""
    relevant = [m for m in state.surveys if program.kind == "transactional" or m.kind == "relationship"]
    for mark in relevant:
        start = mark.clock(caps.clock_starts)
        if start is not None and abs(at - start) < caps.any_survey_gap:
            gap = _span(caps.any_survey_gap)
            return f"surveyed {_ago(at - start)} ago ({mark.program_id}); any-survey gap is {gap}"
    for mark in state.surveys:
        start = mark.clock(caps.clock_starts)
        if mark.program_id == program.id and start is not None and abs(at - start) < program.program_gap:
            return f"{program.id} surveyed {_ago(at - start)} ago; program gap is {_span(program.program_gap)}"
    if caps.max_surveys is not None:
        recent = [m for m in relevant if (s := m.clock(caps.clock_starts)) is not None and at - caps.window < s <= at]
        if len(recent) >= caps.max_surveys:
            return f"{len(recent)} surveys in the last {_span(caps.window)}; the cap is {caps.max_surveys}"
    return None


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _ago(delta: timedelta) -> str:
    hours = abs(delta.total_seconds()) / 3600
    return f"{hours / 24:.1f}d" if hours >= 48 else f"{hours:.1f}h"


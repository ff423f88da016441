"""The records that travel between stages, one dataclass per Avro contract in `schemas/`.

`from_record` validates what Avro cannot (ids present, times in order, counts not negative) and raises
`InvalidEvent`; `to_record` gives the dict the codec writes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxloop.clock import utc
from cxloop.scoring import ScoreOutOfRange, check_score


class InvalidEvent(ValueError):
    """The message decoded but breaks a rule of its contract."""


R = TypeVar("R", bound="Record")


@dataclass(frozen=True)
class Record:
    contract: ClassVar[str]
    optional_ids: ClassVar[frozenset[str]] = frozenset({"agent_id", "team_id"})

    @classmethod
    def from_record(cls: type[R], record: dict[str, Any]) -> R:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: (utc(v) if isinstance(v, datetime) else v) for k, v in record.items() if k in names}
        try:
            instance = cls(**values)
        except TypeError as exc:
            raise InvalidEvent(f"{cls.contract}: {exc}") from exc
        instance.validate()
        return instance

    def validate(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if (f.name.endswith("_id") and f.name not in self.optional_ids) and not (
                isinstance(value, str) and value.strip()
            ):
                raise InvalidEvent(f"{self.contract}: {f.name} must be a non-empty string")

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _not_negative(contract: str, **counts: int) -> None:
    for name, value in counts.items():
        if value < 0:
            raise InvalidEvent(f"{contract}: {name} must not be negative, got {value}")


@dataclass(frozen=True)
class Interaction(Record):
    contract: ClassVar[str] = "interaction-completed"

    interaction_id: str
    trigger: str
    channel: str
    started_at: datetime
    ended_at: datetime
    customer_id: str
    source_system: str = "unknown"
    customer_email: str | None = None
    customer_phone: str | None = None
    customer_locale: str = "en"
    customer_timezone: str = "UTC"
    customer_segment: str | None = None
    handled_by: str = "human"
    agent_id: str | None = None
    agent_name: str | None = None
    team_id: str | None = None
    queue: str | None = None
    contact_reason: str | None = None
    handle_time_seconds: int = 0
    wait_time_seconds: int = 0
    transfers: int = 0
    resolved: bool = False
    first_contact_resolution: bool | None = None

    def validate(self) -> None:
        super().validate()
        if self.ended_at < self.started_at:
            raise InvalidEvent(f"{self.contract}: ended_at {self.ended_at} is before started_at {self.started_at}")
        _not_negative(
            self.contract,
            handle_time_seconds=self.handle_time_seconds,
            wait_time_seconds=self.wait_time_seconds,
            transfers=self.transfers,
        )
        try:
            ZoneInfo(self.customer_timezone)
        except (ValueError, ZoneInfoNotFoundError) as exc:
            raise InvalidEvent(f"{self.contract}: customer_timezone {self.customer_timezone!r} is unknown") from exc
        if self.customer_email is not None and "@" not in self.customer_email:
            raise InvalidEvent(f"{self.contract}: customer_email {self.customer_email!r} is not an address")


@dataclass(frozen=True)
class SurveyDecision(Record):
    contract: ClassVar[str] = "survey-decision"
    optional_ids: ClassVar[frozenset[str]] = frozenset({"program_id", "survey_id"})

    interaction_id: str
    customer_id: str
    outcome: str
    channel: str
    decided_at: datetime
    program_id: str | None = None
    survey_id: str | None = None
    detail: str = ""
    trigger: str = ""


@dataclass(frozen=True)
class Invitation(Record):
    contract: ClassVar[str] = "survey-invitation"

    survey_id: str
    program_id: str
    metric: str
    interaction_id: str
    customer_id: str
    delivery_channel: str
    created_at: datetime
    send_at: datetime
    expires_at: datetime
    interaction_channel: str
    trigger: str
    interaction_ended_at: datetime
    customer_email: str | None = None
    customer_phone: str | None = None
    locale: str = "en"
    handled_by: str = "human"
    agent_id: str | None = None
    agent_name: str | None = None
    team_id: str | None = None
    queue: str | None = None
    contact_reason: str | None = None
    handle_time_seconds: int = 0
    wait_time_seconds: int = 0
    transfers: int = 0
    resolved: bool = False


@dataclass(frozen=True)
class SurveyResponse(Record):
    contract: ClassVar[str] = "survey-response"

    survey_id: str
    score: int | None
    source: str
    responded_at: datetime
    comment: str | None = None
    reply_text: str | None = None

    def validate(self) -> None:
        super().validate()
        if self.score is None:
            if not (self.reply_text or "").strip():
                raise InvalidEvent(f"{self.contract}: needs a score or a reply_text")
        elif isinstance(self.score, bool) or not isinstance(self.score, int):
            raise InvalidEvent(f"{self.contract}: score must be an integer, got {self.score!r}")


@dataclass(frozen=True)
class ScoredResponse(Record):
    contract: ClassVar[str] = "survey-scored"

    survey_id: str
    program_id: str
    metric: str
    score: int
    category: str
    source: str
    responded_at: datetime
    scored_at: datetime
    interaction_id: str
    customer_id: str
    delivery_channel: str
    interaction_channel: str
    trigger: str
    handled_by: str
    interaction_ended_at: datetime
    comment: str | None = None
    themes: list[str] = field(default_factory=list)
    agent_id: str | None = None
    team_id: str | None = None
    queue: str | None = None
    contact_reason: str | None = None
    handle_time_seconds: int = 0
    wait_time_seconds: int = 0
    transfers: int = 0
    resolved: bool = False
    praised: list[str] = field(default_factory=list)
    sentiment: float | None = None
    locale: str = "en"

    def validate(self) -> None:
        super().validate()
        try:
            check_score(self.metric, self.score)
        except ScoreOutOfRange as exc:
            raise InvalidEvent(f"{self.contract}: {exc}") from exc


@dataclass(frozen=True)
class DetractorAlert(Record):
    contract: ClassVar[str] = "detractor-alert"
    optional_ids: ClassVar[frozenset[str]] = frozenset({"agent_id", "team_id", "case_id", "owner_id"})

    alert_id: str
    survey_id: str
    raised_at: datetime
    priority: str
    metric: str
    score: int
    responded_at: datetime
    customer_id: str
    interaction_id: str
    interaction_channel: str
    comment: str | None = None
    themes: list[str] = field(default_factory=list)
    customer_email: str | None = None
    customer_phone: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    team_id: str | None = None
    queue: str | None = None
    contact_reason: str | None = None
    category: str = "detractor"
    history: list[dict[str, Any]] = field(default_factory=list)
    chronic_critic: bool = False
    case_id: str | None = None
    owner_id: str | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class ConsentChange(Record):
    contract: ClassVar[str] = "customer-consent"

    customer_id: str
    status: str
    changed_at: datetime
    reason: str = ""
    source: str = ""


@dataclass(frozen=True)
class SurveyDelivery(Record):
    contract: ClassVar[str] = "survey-delivery"
    optional_ids: ClassVar[frozenset[str]] = frozenset({"customer_id"})

    survey_id: str
    event: str
    provider: str
    provider_event_id: str
    occurred_at: datetime
    customer_id: str | None = None
    channel: str = "email"
    reason: str = ""


@dataclass(frozen=True)
class SurveyOutbound(Record):
    """A survey message for an SMS, WhatsApp, IVR or chat gateway (topic survey-outbound-<channel>)."""

    contract: ClassVar[str] = "survey-outbound"

    message_id: str
    survey_id: str
    channel: str
    kind: str
    to: str
    customer_id: str
    program_id: str
    locale: str
    metric: str
    scale_low: int
    scale_high: int
    low_label: str
    high_label: str
    question: str
    text: str
    created_at: datetime
    expires_at: datetime
    follow_up: dict[str, str] = field(default_factory=dict)
    survey_url: str | None = None

    @property
    def topic(self) -> str:
        return f"{self.contract}-{self.channel}"


@dataclass(frozen=True)
class CaseUpdate(Record):
    contract: ClassVar[str] = "case-update"

    case_id: str
    customer_id: str
    actor: str
    updated_at: datetime
    status: str | None = None
    outcome: str | None = None
    root_cause: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class CaseEvent(Record):
    contract: ClassVar[str] = "case-event"
    optional_ids: ClassVar[frozenset[str]] = frozenset({"agent_id", "team_id", "survey_id"})

    event_id: str
    case_id: str
    seq: int
    customer_id: str
    event: str
    status: str
    at: datetime
    actor: str
    owner_id: str
    level: int
    category: str
    priority: str
    opened_at: datetime
    due_at: datetime
    metric: str
    score: int
    survey_id: str | None = None
    team_id: str | None = None
    agent_id: str | None = None
    queue: str | None = None
    contact_reason: str | None = None
    interaction_channel: str | None = None
    note: str | None = None
    outcome: str | None = None
    root_cause: str | None = None


@dataclass(frozen=True)
class CaseEscalation(Record):
    contract: ClassVar[str] = "case-escalation"
    optional_ids: ClassVar[frozenset[str]] = frozenset({"team_id", "customer_id", "previous_owner_id"})

    escalation_id: str
    case_id: str
    customer_id: str
    kind: str
    level: int
    owner_id: str
    previous_owner_id: str
    raised_at: datetime
    due_at: datetime
    overdue_seconds: int
    team_id: str | None = None
    queue: str | None = None
    contact_reason: str | None = None
    theme: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class PromoterAdvocacy(Record):
    contract: ClassVar[str] = "promoter-advocacy"

    advocacy_id: str
    survey_id: str
    customer_id: str
    ask: str
    metric: str
    score: int
    interaction_id: str
    raised_at: datetime
    customer_email: str | None = None
    customer_phone: str | None = None
    comment: str | None = None
    agent_id: str | None = None
    team_id: str | None = None


@dataclass(frozen=True)
class RollingAggregate(Record):
    contract: ClassVar[str] = "rolling-aggregate"

    window: str
    dimension: str
    value: str
    metric: str
    window_start: datetime
    window_end: datetime
    answers: int
    detractors: int
    passives: int
    promoters: int
    score_sum: int
    updated_at: datetime


"""Survey programs: which interactions get which survey, when, how often. Loaded from validated YAML.

Errors name the file, the line and the field (`programs.yaml line 14: programs[1].sampling.rate: ...`), and a bad
file stops the worker at start.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from cxloop.scoring import SCALES, Metric

DEFAULT_PROGRAMS = Path(__file__).resolve().parent / "default_programs.yaml"
DEMO_PROGRAMS = Path(__file__).resolve().parent / "demo_programs.yaml"
TRIGGERS = ("call_end", "ticket_solved", "chat_end", "escalation", "transfer", "self_service_end", "bot_session_end")
CHANNELS = ("voice", "email", "chat", "sms", "whatsapp", "web", "app", "bot")
Trigger = Literal["call_end", "ticket_solved", "chat_end", "escalation", "transfer", "self_service_end",
                  "bot_session_end"]
Channel = Literal["voice", "email", "chat", "sms", "whatsapp", "web", "app", "bot"]
DeliveryChannel = Literal["email", "sms", "whatsapp", "ivr", "chat"]
DELIVERY_CHANNELS: tuple[DeliveryChannel, ...] = ("email", "sms", "whatsapp", "ivr", "chat")
GATEWAY_CHANNELS: tuple[DeliveryChannel, ...] = ("sms", "whatsapp", "ivr", "chat")  # topic survey-outbound-<channel>
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ProgramError(ValueError):
    """A survey program file that cannot be used; the message names file, line and field."""


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
        return timedelta(0)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"expected a duration like 30s, 5m, 24h, 7d or 2w, got {value!r}")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatchRule(StrictModel):
    """All given conditions must hold; an absent condition matches everything."""

    triggers: tuple[Trigger, ...] | None = None
    channels: tuple[Channel, ...] | None = None
    contact_reasons: tuple[str, ...] | None = None
    segments: tuple[str, ...] | None = None
    handled_by: Literal["human", "bot"] | None = None
    resolved: bool | None = None


class Texts(StrictModel):
    question: str = Field(min_length=1)
    follow_up: dict[Literal["detractor", "passive", "promoter"], str] = Field(default_factory=dict)


def parse_clock_time(value: Any) -> time:
    """'21:00'. YAML 1.1 reads an unquoted 21:00 as the number 1260 (minutes, base 60): take it as meant."""
    if isinstance(value, bool):
        raise ValueError(f"expected a time of day like '21:00', got {value!r}")
    if isinstance(value, int):
        if not 0 <= value < 24 * 60:
            raise ValueError(f"expected a time of day like '21:00', got {value!r}")
        return time(value // 60, value % 60)
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    try:
        return time.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"expected a time of day like '21:00', got {value!r}") from None


ClockTime = Annotated[time, BeforeValidator(parse_clock_time)]


class QuietHours(StrictModel):
    """Local hours, in the customer's time zone, when nothing is sent; sends are deferred to `end`, never dropped."""

    start: ClockTime
    end: ClockTime

    def contains(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


class Timing(StrictModel):
    delay: Duration = timedelta(0)
    expiry: Duration = timedelta(days=7)
    reminder_after: Duration | None = None


class Sampling(StrictModel):
    mode: Literal["rate", "adaptive"] = "rate"
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    target_responses_per_agent_week: int | None = Field(default=None, ge=1)
    expected_response_rate: float = Field(default=0.2, gt=0.0, le=1.0)
    min_rate: float = Field(default=0.02, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _adaptive_has_target(self) -> Sampling:
        if self.mode == "adaptive" and self.target_responses_per_agent_week is None:
            raise ValueError("adaptive sampling needs target_responses_per_agent_week")
        return self


class Delivery(StrictModel):
    """Which channel carries a survey: `follow` maps the interaction's channel to a delivery channel, used when the
    customer can be reached on it; otherwise the first reachable channel of `fallback`. Email goes out through the
    email sink; sms, whatsapp, ivr and chat go to their gateway's topic (survey-outbound-<channel>)."""

    follow: dict[Channel, DeliveryChannel] = Field(default_factory=dict)
    fallback: tuple[DeliveryChannel, ...] = ("email",)

    @model_validator(mode="after")
    def _some_channel(self) -> Delivery:
        if not self.follow and not self.fallback:
            raise ValueError("delivery needs a channel: give follow or fallback")
        return self


class Program(StrictModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    metric: Metric
    kind: Literal["transactional", "relationship"] = "transactional"
    priority: int = 0
    match: MatchRule = MatchRule()
    texts: dict[str, Texts] = Field(default_factory=dict)
    timing: Timing = Timing()
    sampling: Sampling = Sampling()
    program_gap: Duration = Field(
        default=timedelta(0), description="minimum time since this customer's last survey of this program"
    )
    delivery: Delivery | None = Field(default=None, description="this program's own channel choice")
    alert_at_or_below: int | None = Field(
        default=None, description="scores at or below raise a detractor alert; default: the metric's detractors "
        "(NPS 0-6, CSAT 1-2, CES 1-3)")

    @model_validator(mode="after")
    def _threshold_on_scale(self) -> Program:
        scale = SCALES[self.metric]
        if self.alert_at_or_below is not None and not scale.low <= self.alert_at_or_below < scale.high:
            raise ValueError(f"alert_at_or_below must be on the {self.metric} scale, {scale.low}-{scale.high - 1}")
        return self

    @property
    def alert_threshold(self) -> int:
        return self.alert_at_or_below if self.alert_at_or_below is not None else SCALES[self.metric].detractor_max

    @field_validator("texts")
    @classmethod
    def _english_first(cls, texts: dict[str, Texts]) -> dict[str, Texts]:
        if texts and "en" not in texts:
            raise ValueError("texts must include 'en' (the fallback language)")
        return texts


class FrequencyCaps(StrictModel):
    """Per customer identity, across channels and programs. Reminders never count."""

    any_survey_gap: Duration = timedelta(0)
    max_surveys: int | None = Field(default=None, ge=1, description="at most this many surveys within `window`")
    window: Duration = timedelta(days=90)
    clock_starts: Literal["invited", "answered"] = "invited"


class Exclusions(StrictModel):
    segments: tuple[str, ...] = ()
    bot_only: bool = False
    open_complaint: bool = False
    complaint_reasons: tuple[str, ...] = ("complaint",)


class Arbitration(StrictModel):
    """Among one customer's interactions ending within `window` of the first: which is surveyed."""

    mode: Literal["first", "most_significant"] = "first"
    window: Duration = timedelta(0)


class SurveyPrograms(StrictModel):
    version: Literal[1] = 1
    caps: FrequencyCaps = FrequencyCaps()
    quiet_hours: QuietHours | None = None
    exclusions: Exclusions = Exclusions()
    arbitration: Arbitration = Arbitration()
    delivery: Delivery = Delivery()
    dedup_horizon: Duration = Field(default=timedelta(days=30), description="how long interaction ids are remembered")
    programs: tuple[Program, ...] = Field(min_length=1)

    @field_validator("programs")
    @classmethod
    def _unique_ids(cls, programs: tuple[Program, ...]) -> tuple[Program, ...]:
        seen: set[str] = set()
        for program in programs:
            if program.id in seen:
                raise ValueError(f"program id {program.id!r} is used twice")
            seen.add(program.id)
        return programs

    def by_id(self, program_id: str) -> Program | None:
        return next((p for p in self.programs if p.id == program_id), None)

    @property
    def memory(self) -> timedelta:
        """How long a customer's survey history must be kept to apply every cap."""
        return max([self.caps.any_survey_gap, self.caps.window] + [p.program_gap for p in self.programs])


def load_programs(path: Path = DEFAULT_PROGRAMS) -> SurveyPrograms:
    return load_validated(path, SurveyPrograms, "survey programs", _no_repeated_program_ids)


def _no_repeated_program_ids(path: Path, data: dict[str, Any], lines: dict[tuple[Any, ...], int]) -> None:
    seen: set[Any] = set()
    for n, program in enumerate(data.get("programs") or []):
        program_id = program.get("id") if isinstance(program, dict) else None
        if program_id is not None and program_id in seen:
            line = _nearest_line(lines, ("programs", n, "id"))
            raise ProgramError(f"{path} line {line}: programs[{n}].id: program id {program_id!r} is used twice")
        seen.add(program_id)


M = TypeVar("M", bound=BaseModel)


def load_validated(
    path: Path, model: type[M], what: str,
    check: Callable[[Path, dict[str, Any], dict[tuple[Any, ...], int]], None] | None = None,
) -> M:
    """A YAML file validated into `model`; every problem names the file, the line and the field."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ProgramError(f"{path}: cannot read {what}: {exc.strerror}") from exc
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ProgramError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise ProgramError(f"{path}: expected a mapping of {what} settings at the top")
    lines = _line_index(node)
    if check is not None:
        check(path, data, lines)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        errors = exc.errors()
        for err in errors:
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "literal"))))
            if any(other is not err and other["loc"][: len(loc)] == tuple(loc) and len(other["loc"]) > len(loc)
                   for other in errors):
                continue  # a container's summary of its items' errors: the items say more
            line = _nearest_line(lines, loc)
            problems.append(f"{path} line {line}: {_dotted(loc) or '(top)'}: {err['msg']}")
        raise ProgramError("\n".join(problems)) from None


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_index(node: yaml.Node | None, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    lines: dict[tuple[Any, ...], int] = {}
    if node is None:
        return lines
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[(*path, key.value)] = key.start_mark.line + 1
            lines.update({k: v for k, v in _line_index(value, (*path, key.value)).items() if k != (*path, key.value)})
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_line_index(item, (*path, i)))
    return lines


def _nearest_line(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1

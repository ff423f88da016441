"""Who follows up a low score: people, teams, routing rules and SLAs, from a validated YAML file.

The owner of a case is chosen by the first routing rule that matches the alert (by metric, priority, category,
team, queue, contact reason, channel); a rule names a person or a role of the agent's team (`team_lead`,
`team_manager`). A case past its due time escalates to the next level: the owner's team manager, then `head`.
Errors name the file, the line and the field, like the survey programs.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from cxloop.programs import Duration, StrictModel, load_validated

DEFAULT_DIRECTORY = Path(__file__).resolve().parent / "default_directory.yaml"
DEMO_DIRECTORY = Path(__file__).resolve().parent / "demo_directory.yaml"
Role = Literal["team_lead", "team_manager", "head"]


class Person(StrictModel):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    name: str
    email: str | None = None
    webhook: str | None = Field(default=None, description="Slack-compatible incoming webhook URL")


class Team(StrictModel):
    id: str
    lead: str
    manager: str | None = None


class RouteMatch(StrictModel):
    metrics: tuple[Literal["nps", "csat", "ces"], ...] | None = None
    priorities: tuple[Literal["high", "normal"], ...] | None = None
    categories: tuple[Literal["detractor", "passive"], ...] | None = None
    teams: tuple[str, ...] | None = None
    queues: tuple[str, ...] | None = None
    contact_reasons: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None


class Route(StrictModel):
    match: RouteMatch = RouteMatch()
    owner: str = Field(description="a person id, or team_lead / team_manager / head")


class Sla(StrictModel):
    """Time to first contact with the customer, from the case's opening; escalations restart the clock."""

    detractor: Duration = timedelta(hours=24)
    passive: Duration = timedelta(hours=48)
    escalation: Duration | None = Field(default=None, description="time the next level gets; default: the same SLA")


class Advocacy(StrictModel):
    """Promoters asked for a review or a referral (topic promoter-advocacy), at most once per `cap` per customer."""

    ask: Literal["review", "referral"] | None = Field(default=None, description="unset: no asks")
    cap: Duration = timedelta(days=90)


class Systemic(StrictModel):
    """The rolling detector of detractor-share spikes per team, queue, contact reason and theme."""

    enabled: bool = True
    dimensions: tuple[Literal["team", "queue", "contact_reason", "theme"], ...] = (
        "team", "queue", "contact_reason", "theme")
    window: Duration = timedelta(hours=1)
    baseline: Duration = timedelta(days=7)
    min_responses: int = Field(default=10, ge=1, description="answers needed in the window and in the baseline")
    min_rise: float = Field(default=0.15, gt=0, le=1, description="detractor share points above the baseline")
    z: float = Field(default=3.0, gt=0, description="two-proportion z-test threshold")


class Directory(StrictModel):
    version: Literal[1] = 1
    people: tuple[Person, ...] = Field(min_length=1)
    teams: tuple[Team, ...] = ()
    head: str = Field(description="the last level of escalation, and the owner when nothing else applies")
    routes: tuple[Route, ...] = ()
    sla: Sla = Sla()
    passives: bool = Field(default=False, description="open a lighter follow-up case for passives too")
    chronic_critic: int = Field(default=3, ge=2, description="this many low scores in a row flag a chronic critic")
    advocacy: Advocacy = Advocacy()
    systemic: Systemic = Systemic()

    @model_validator(mode="after")
    def _known_people(self) -> Directory:
        known = {p.id for p in self.people}
        named = [("head", self.head)] + [(f"teams[{t.id}].lead", t.lead) for t in self.teams]
        named += [(f"teams[{t.id}].manager", t.manager) for t in self.teams if t.manager]
        named += [(f"routes[{n}].owner", r.owner) for n, r in enumerate(self.routes)
                  if r.owner not in ("team_lead", "team_manager", "head")]
        for where, person in named:
            if person not in known:
                raise ValueError(f"{where}: no person with id {person!r} in people")
        return self

    def person(self, person_id: str) -> Person:
        found = next((p for p in self.people if p.id == person_id), None)
        if found is None:  # e.g. the directory changed since the case was opened
            raise KeyError(f"no person {person_id!r} in the directory")
        return found

    def team(self, team_id: str | None) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)

    def owner_for(self, alert: dict[str, object]) -> str:
        """The owner's person id: the first route that matches and resolves to someone, else the head."""
        for route in self.routes:
            if _matches(route.match, alert):
                owner = self._resolve(route.owner, alert.get("team_id"))  # type: ignore[arg-type]
                if owner is not None:
                    return owner
        return self.head

    def chain(self, owner: str, team_id: str | None) -> list[str]:
        """Who a case goes to, level by level: its owner, the team's manager, the head (no one twice)."""
        team = self.team(team_id)
        levels = [owner] + ([team.manager] if team and team.manager else []) + [self.head]
        return list(dict.fromkeys(levels))

    def sla_for(self, category: str, level: int = 0) -> timedelta:
        if level > 0 and self.sla.escalation is not None:
            return self.sla.escalation
        return self.sla.passive if category == "passive" else self.sla.detractor

    def systemic_owner(self, dimension: str, value: str) -> str:
        """A team's spike goes to its manager (else its lead); any other to the head."""
        team = self.team(value) if dimension == "team" else None
        return (team.manager or team.lead) if team else self.head

    def _resolve(self, owner: str, team_id: str | None) -> str | None:
        team = self.team(team_id)
        if owner == "team_lead":
            return team.lead if team else None
        if owner == "team_manager":
            return team.manager if team else None
        return self.head if owner == "head" else owner


def _matches(rule: RouteMatch, alert: dict[str, object]) -> bool:
    checks = ((rule.metrics, "metric"), (rule.priorities, "priority"), (rule.categories, "category"),
              (rule.teams, "team_id"), (rule.queues, "queue"), (rule.contact_reasons, "contact_reason"),
              (rule.channels, "interaction_channel"))
    return all(allowed is None or alert.get(field) in allowed for allowed, field in checks)


def load_directory(path: Path = DEFAULT_DIRECTORY) -> Directory:
    return load_validated(path, Directory, "follow-up directory")

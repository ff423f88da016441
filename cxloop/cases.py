"""Follow-up cases: one per customer at a time, opened by a low score, worked to an outcome under an SLA.

Pure rules over one customer's follow-up state (`FollowUp`, kept as JSON in the cases agent's table):

- A detractor alert opens a case (a passive one too, when the directory says so), owned by the directory's routing,
  due at the SLA; another low score while a case is open attaches to it instead of opening a second one.
- `open → acknowledged → contacted → resolved | unreachable`, from `case-update` events (topic or HTTP). Resolving
  needs the outcome and the root cause. An update for a case not opened yet is kept and applied when it opens.
- Past its due time without contact, a case escalates to the next level of the directory's chain and is due again.
- The customer's recent scores travel with every alert; this many low scores in a row flag a chronic critic.
- A promoter may be asked for a review or a referral (promoter-advocacy), at most once per cap, never while a case
  is open.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from cxloop.clock import epoch_ms, from_epoch_ms
from cxloop.directory import Directory
from cxloop.model import CaseEscalation, CaseEvent, CaseUpdate, DetractorAlert, InvalidEvent, PromoterAdvocacy

log = logging.getLogger(__name__)
STATUSES = ("open", "acknowledged", "contacted", "resolved", "unreachable")
NEXT: dict[str, frozenset[str]] = {
    "open": frozenset({"acknowledged", "contacted", "resolved", "unreachable"}),
    "acknowledged": frozenset({"contacted", "resolved", "unreachable"}),
    "contacted": frozenset({"resolved", "unreachable"}),
    "resolved": frozenset(),
    "unreachable": frozenset(),
}
CLOSED = ("resolved", "unreachable")
NOT_YET_CONTACTED = ("open", "acknowledged")
ROOT_CAUSES = ("product_issue", "process", "agent_behaviour", "expectation_gap")
HISTORY = 10  # scores kept per customer
EARLY = 20  # updates kept for cases not opened yet
REMEMBERED = 20  # closed case ids kept, so late updates to them are recognised


def case_id_for(survey_id: str) -> str:
    return "cs_" + survey_id.removeprefix("sv_")


@dataclass
class Case:
    case_id: str
    customer_id: str
    category: str
    status: str
    priority: str
    owner_id: str
    level: int
    chain: list[str]
    opened_at: int  # epoch ms, like every time in the state
    due_at: int
    surveys: list[str]
    context: dict[str, Any]  # metric, score, team, agent, queue, reason, channel of the opening alert
    seq: int = 0
    contacted_at: int | None = None
    closed_at: int | None = None
    outcome: str | None = None
    root_cause: str | None = None


@dataclass
class FollowUp:
    """One customer's follow-up state."""

    history: list[dict[str, Any]] = field(default_factory=list)  # {s: survey, m: metric, v: score, c: category, t}
    case: Case | None = None
    closed: list[str] = field(default_factory=list)
    early: list[dict[str, Any]] = field(default_factory=list)  # CaseUpdate records for cases not opened yet
    asked_at: int | None = None  # when this promoter was last asked to advocate
    applied: list[str] = field(default_factory=list)  # recent updates already applied: a replay changes nothing

    @classmethod
    def from_json(cls, data: bytes | None) -> FollowUp:
        if not data:
            return cls()
        raw = json.loads(data)
        case = Case(**raw["case"]) if raw.get("case") else None
        return cls(history=raw["history"], case=case, closed=raw["closed"], early=raw["early"],
                   asked_at=raw.get("asked_at"), applied=raw.get("applied", []))

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()


@dataclass
class Effects:
    """What the agent publishes after a change: events of the case log (the notifier tells owners of the opened,
    attached and escalated ones), the enriched alert, escalations, and when to wake up next."""

    events: list[CaseEvent] = field(default_factory=list)
    alert: DetractorAlert | None = None
    escalations: list[CaseEscalation] = field(default_factory=list)
    advocacy: PromoterAdvocacy | None = None
    wake_at: datetime | None = None


def remember_score(state: FollowUp, survey_id: str, metric: str, score: int, category: str, at: datetime) -> None:
    """Add (or update) a score in the customer's recent history, oldest first; `k` is the case it went into."""
    earlier = next((h for h in state.history if h["s"] == survey_id), {})
    entry = {"s": survey_id, "m": metric, "v": score, "c": category, "t": epoch_ms(at), "k": earlier.get("k"),
             "a": earlier.get("a")}
    state.history = sorted([h for h in state.history if h["s"] != survey_id] + [entry],
                           key=lambda h: (h["t"], h["s"]))[-HISTORY:]


def past_score(entry: dict[str, Any]) -> dict[str, Any]:
    """A history entry as the alert's PastScore record."""
    return {"survey_id": entry["s"], "metric": entry["m"], "score": entry["v"], "category": entry["c"],
            "responded_at": from_epoch_ms(entry["t"])}


def chronic_critic(state: FollowUp, directory: Directory) -> bool:
    recent = state.history[-directory.chronic_critic:]
    return len(recent) >= directory.chronic_critic and all(h["c"] == "detractor" for h in recent)


def on_alert(state: FollowUp, alert: DetractorAlert, directory: Directory, now: datetime) -> Effects:
    """A low (or, with `passives`, middling) score: open a case or attach to the open one; enrich the alert."""
    effects = Effects()
    remember_score(state, alert.survey_id, alert.metric, alert.score, alert.category, alert.responded_at)
    entry = next(h for h in state.history if h["s"] == alert.survey_id)
    case = state.case
    context = {"metric": alert.metric, "score": alert.score, "team_id": alert.team_id, "agent_id": alert.agent_id,
               "queue": alert.queue, "contact_reason": alert.contact_reason, "channel": alert.interaction_channel}
    if entry["k"] is not None:
        pass  # the same answer again (its comment arrived, or a replay): the alert is re-raised, cases unchanged
    elif case is not None and alert.category == "detractor":
        case.surveys.append(alert.survey_id)
        entry["k"] = case.case_id
        effects.events.append(_event(case, "attached", now, survey_id=alert.survey_id, score=alert.score,
                                     note=alert.comment))
    elif case is None and (alert.category == "detractor" or directory.passives):
        owner = directory.owner_for(asdict(alert))
        chain = directory.chain(owner, alert.team_id)
        due = now + directory.sla_for(alert.category)
        case = Case(
            case_id=case_id_for(alert.survey_id), customer_id=alert.customer_id, category=alert.category,
            status="open", priority=alert.priority if alert.category == "detractor" else "low", owner_id=owner,
            level=0, chain=chain, opened_at=epoch_ms(now), due_at=epoch_ms(due), surveys=[alert.survey_id],
            context=context,
        )
        state.case = case
        entry["k"] = case.case_id
        effects.events.append(_event(case, "opened", now, survey_id=alert.survey_id, score=alert.score,
                                     note=alert.comment))
        early = [u for u in state.early if u["case_id"] == case.case_id]
        state.early = [u for u in state.early if u["case_id"] != case.case_id]
        for update in sorted(early, key=lambda u: u["updated_at"]):
            try:
                _apply(state, CaseUpdate.from_record(_times(update)), effects)
            except InvalidEvent as exc:  # it was kept on trust; the case opens all the same
                log.warning("early update to %s dropped: %s", case.case_id, exc)
            if state.case is None:
                break  # closed by an early update
    if alert.category == "promoter":
        effects.advocacy = _advocacy(state, alert, directory, now)
    if alert.category == "detractor":
        effects.alert = DetractorAlert(**{
            **asdict(alert), "history": [past_score(h) for h in state.history],
            "chronic_critic": chronic_critic(state, directory),
            "case_id": entry["k"], "owner_id": case.owner_id if case and case.case_id == entry["k"] else None,
            "due_at": from_epoch_ms(case.due_at) if case and case.case_id == entry["k"] else None,
        })
    effects.wake_at = _wake(state)
    return effects


def _advocacy(state: FollowUp, alert: DetractorAlert, directory: Directory, now: datetime
              ) -> PromoterAdvocacy | None:
    """Ask a promoter for a review or referral: not while they have an open case, at most once per cap."""
    ask = directory.advocacy.ask
    if ask is None or state.case is not None or any(h["s"] == alert.survey_id and h.get("a") for h in state.history):
        return None
    if state.asked_at is not None and now - from_epoch_ms(state.asked_at) < directory.advocacy.cap:
        return None
    state.asked_at = epoch_ms(now)
    for h in state.history:
        if h["s"] == alert.survey_id:
            h["a"] = True  # a replay of this answer asks no one again
    return PromoterAdvocacy(
        advocacy_id=alert.survey_id, survey_id=alert.survey_id, customer_id=alert.customer_id, ask=ask,
        metric=alert.metric, score=alert.score, interaction_id=alert.interaction_id, raised_at=now,
        customer_email=alert.customer_email, customer_phone=alert.customer_phone, comment=alert.comment,
        agent_id=alert.agent_id, team_id=alert.team_id,
    )


def on_update(state: FollowUp, update: CaseUpdate, now: datetime) -> Effects:
    """A person's change to a case: a status, an outcome with its root cause, a note."""
    effects = Effects()
    if _update_key(update) in state.applied:
        return Effects(wake_at=_wake(state))  # the same update again (a replay after a restart)
    case = state.case
    if case is None or case.case_id != update.case_id:
        if update.case_id in state.closed:
            raise InvalidEvent(f"case-update: case {update.case_id} is already closed")
        kept = {**update.to_record(), "updated_at": epoch_ms(update.updated_at)}
        state.early = ([*state.early, kept])[-EARLY:]  # its alert has not arrived yet
        return effects
    _apply(state, update, effects)
    effects.wake_at = _wake(state)
    return effects


def on_due(state: FollowUp, directory: Directory, now: datetime) -> Effects:
    """The SLA timer: a case not contacted by its due time goes to the next level, due again."""
    effects = Effects()
    case = state.case
    if case is None or case.status not in NOT_YET_CONTACTED or now < from_epoch_ms(case.due_at):
        effects.wake_at = _wake(state)
        return effects
    overdue = now - from_epoch_ms(case.due_at)
    previous = case.owner_id
    if case.level + 1 < len(case.chain):
        case.level += 1
        case.owner_id = case.chain[case.level]
    case.due_at = epoch_ms(now + directory.sla_for(case.category, case.level))
    event = _event(case, "escalated", now, actor="sla", note=f"not contacted within the SLA (overdue {overdue})")
    effects.events.append(event)
    effects.escalations.append(CaseEscalation(
        escalation_id=f"{case.case_id}.{case.seq}", case_id=case.case_id, customer_id=case.customer_id, kind="sla",
        level=case.level, owner_id=case.owner_id, previous_owner_id=previous, raised_at=now,
        due_at=from_epoch_ms(case.due_at), overdue_seconds=int(overdue.total_seconds()),
        team_id=case.context.get("team_id"), queue=case.context.get("queue"),
        contact_reason=case.context.get("contact_reason"), detail=event.note or "",
    ))
    effects.wake_at = _wake(state)
    return effects


def _update_key(update: CaseUpdate) -> str:
    return "|".join(str(v) for v in (update.case_id, epoch_ms(update.updated_at), update.actor, update.status,
                                     update.outcome, update.root_cause, update.note))


def _apply(state: FollowUp, update: CaseUpdate, effects: Effects) -> None:
    case = state.case
    assert case is not None and case.case_id == update.case_id
    key = _update_key(update)
    if key in state.applied:
        return
    at = update.updated_at
    if update.status is not None and update.status != case.status:
        if update.status not in NEXT[case.status]:
            raise InvalidEvent(f"case-update: case {case.case_id} cannot go from {case.status} to {update.status}")
        if update.status == "resolved" and not (update.outcome and update.root_cause):
            raise InvalidEvent("case-update: resolving a case needs its outcome and root_cause")
        case.status = update.status
        if update.status in ("contacted", *CLOSED) and case.contacted_at is None:
            case.contacted_at = epoch_ms(at)
        if update.status in CLOSED:
            case.closed_at = epoch_ms(at)
            case.outcome, case.root_cause = update.outcome, update.root_cause
        effects.events.append(_event(case, update.status, at, actor=update.actor, note=update.note,
                                     outcome=update.outcome, root_cause=update.root_cause))
        if case.status in CLOSED:
            state.closed = ([*state.closed, case.case_id])[-REMEMBERED:]
            state.case = None
    elif update.note:
        effects.events.append(_event(case, "note", at, actor=update.actor, note=update.note))
    elif update.status is None:
        raise InvalidEvent("case-update: needs a status or a note")
    state.applied = [*state.applied, key][-REMEMBERED:]


def _event(case: Case, kind: str, at: datetime, *, actor: str = "cxloop", note: str | None = None,
           survey_id: str | None = None, score: int | None = None, outcome: str | None = None,
           root_cause: str | None = None) -> CaseEvent:
    case.seq += 1
    ctx = case.context
    return CaseEvent(
        event_id=f"{case.case_id}.{case.seq}", case_id=case.case_id, seq=case.seq, customer_id=case.customer_id,
        event=kind, status=case.status, at=at, actor=actor, owner_id=case.owner_id, level=case.level,
        category=case.category, priority=case.priority, opened_at=from_epoch_ms(case.opened_at),
        due_at=from_epoch_ms(case.due_at), metric=ctx["metric"], score=score if score is not None else ctx["score"],
        survey_id=survey_id, team_id=ctx.get("team_id"), agent_id=ctx.get("agent_id"), queue=ctx.get("queue"),
        contact_reason=ctx.get("contact_reason"), interaction_channel=ctx.get("channel"), note=note,
        outcome=outcome, root_cause=root_cause,
    )


def _wake(state: FollowUp) -> datetime | None:
    case = state.case
    return from_epoch_ms(case.due_at) if case is not None and case.status in NOT_YET_CONTACTED else None


def _times(record: dict[str, Any]) -> dict[str, Any]:
    """A CaseUpdate record kept in the JSON state, with its time back as a datetime."""
    at = record["updated_at"]
    return {**record, "updated_at": from_epoch_ms(at) if isinstance(at, int) else datetime.fromisoformat(at)}


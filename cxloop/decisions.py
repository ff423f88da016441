"""Whether and when to survey: one decision per interaction, with its reason code.

Order of the rules (the first that applies decides): a replay repeats its earlier decision; another trigger of an
interaction already decided is a duplicate; opt-outs win over everything; exclusions; no matching program; no way to
reach the customer; past expiry; sampling; frequency caps; then invited, or deferred past quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cxloop.channels import delivery_channel, tried
from cxloop.contact_policy import CustomerState, StoredDecision, SurveyMark, adaptive_rate, cap_violation, sample_point
from cxloop.model import Interaction, Invitation, SurveyDecision
from cxloop.programs import MatchRule, Program, QuietHours, SurveyPrograms
from cxloop.surveys import survey_id

OUTCOMES = ("invited", "sampled_out", "frequency_capped", "quiet_hours_deferred", "opted_out", "excluded",
            "duplicate", "no_contact", "expired")
SENT = ("invited", "quiet_hours_deferred")


@dataclass(frozen=True)
class Verdict:
    decision: SurveyDecision
    invitation: Invitation | None
    replayed: bool = False


def matches(rule: MatchRule, interaction: Interaction) -> bool:
    checks = (
        (rule.triggers, interaction.trigger), (rule.channels, interaction.channel),
        (rule.contact_reasons, interaction.contact_reason), (rule.segments, interaction.customer_segment),
    )
    if any(allowed is not None and value not in allowed for allowed, value in checks):
        return False
    if rule.handled_by is not None and rule.handled_by != interaction.handled_by:
        return False
    return rule.resolved is None or rule.resolved == interaction.resolved


def after_quiet_hours(send_at: datetime, zone: str, quiet: QuietHours | None) -> datetime:
    """The first moment at or after `send_at` outside the customer's local quiet hours."""
    if quiet is None:
        return send_at
    local = send_at.astimezone(ZoneInfo(zone))
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return send_at
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(send_at.tzinfo)


def significance(interaction: Interaction) -> tuple[int, int, int, int]:
    """Escalations first, then unresolved contacts, then more transfers, then longer handling."""
    return (interaction.trigger == "escalation", not interaction.resolved, interaction.transfers,
            interaction.handle_time_seconds)


def decision_key(interaction: Interaction) -> str:
    return f"{interaction.interaction_id}|{interaction.trigger}"


class TriggerRules:
    def __init__(self, programs: SurveyPrograms) -> None:
        self.programs = programs
        self._ranked = sorted(programs.programs, key=lambda p: -p.priority)

    def program_for(self, interaction: Interaction) -> Program | None:
        return next((p for p in self._ranked if matches(p.match, interaction)), None)

    def channel_for(self, interaction: Interaction, program: Program) -> str | None:
        return delivery_channel(interaction, program.delivery or self.programs.delivery)

    def decide(
        self, interaction: Interaction, state: CustomerState, now: datetime, weekly_volume: float = 0.0,
        arbitration_winner: str | None = None,
    ) -> Verdict:
        """Decide and record the decision in `state`. `weekly_volume` feeds adaptive sampling (the agent's
        matching contacts over the last 7 days); `arbitration_winner` names the interaction of the same burst that
        was already invited, if any."""
        key = decision_key(interaction)
        stored = state.decided.get(key)
        if stored is not None:
            return self._verdict(interaction, stored, replayed=True)
        program = self.program_for(interaction)
        outcome, detail, send_at = self._rule(interaction, program, state, now, weekly_volume, arbitration_winner)
        sid = survey_id(program.id, interaction.interaction_id) if program and outcome in SENT else None
        stored = StoredDecision(outcome, program.id if program else None, sid, now, send_at, detail)
        state.decided[key] = stored
        state.decided_at_event[key] = interaction.ended_at
        if program is not None and sid is not None:
            state.surveys.append(SurveyMark(sid, program.id, program.kind, interaction.ended_at))
        return self._verdict(interaction, stored)

    def _rule(
        self, interaction: Interaction, program: Program | None, state: CustomerState, now: datetime,
        weekly_volume: float, arbitration_winner: str | None,
    ) -> tuple[str, str, datetime | None]:
        rules = self.programs
        if any(k.rsplit("|", 1)[0] == interaction.interaction_id for k in state.decided):
            return "duplicate", "this interaction was already decided under another trigger", None
        if state.opted_out_at is not None:
            return "opted_out", f"opted out ({state.opt_out_reason or 'no reason given'})", None
        excluded = self._exclusion(interaction, state)
        if excluded:
            return "excluded", excluded, None
        if program is None:
            return "excluded", "no survey program matches", None
        if arbitration_winner is not None:
            return "frequency_capped", f"burst arbitration chose {arbitration_winner}", None
        if self.channel_for(interaction, program) is None:
            channels = tried(interaction, program.delivery or rules.delivery)
            return "no_contact", (f"no contact data to reach the customer by {channels}" if channels else
                                  f"no delivery channel for {interaction.channel} interactions"), None
        due = interaction.ended_at + program.timing.delay
        if now >= due + program.timing.expiry:
            return "expired", f"would have expired at {(due + program.timing.expiry).isoformat()}", None
        rate = adaptive_rate(program.sampling, weekly_volume)
        if sample_point(program.id, interaction.interaction_id) >= rate:
            return "sampled_out", f"outside the {rate:.1%} sample of {program.id}", None
        capped = cap_violation(state, program, rules.caps, interaction.ended_at)
        if capped:
            return "frequency_capped", capped, None
        send_at = max(due, now)
        deferred = after_quiet_hours(send_at, interaction.customer_timezone, rules.quiet_hours)
        if deferred >= due + program.timing.expiry:
            return "expired", f"quiet hours end at {deferred.isoformat()}, after the survey would expire", None
        if deferred != send_at:
            return "quiet_hours_deferred", f"deferred to {deferred.isoformat()} (quiet hours)", deferred
        return "invited", f"{program.id} at {rate:.0%} sampling", send_at

    def _exclusion(self, interaction: Interaction, state: CustomerState) -> str | None:
        rules = self.programs.exclusions
        if interaction.customer_segment in rules.segments:
            return f"customer segment {interaction.customer_segment!r} is excluded"
        if rules.bot_only and interaction.handled_by == "bot":
            return "bot-only session"
        if rules.open_complaint and state.complaint_open_since is not None:
            return f"complaint open since {state.complaint_open_since.isoformat()}"
        return None

    def _verdict(self, interaction: Interaction, stored: StoredDecision, replayed: bool = False) -> Verdict:
        decision = SurveyDecision(
            interaction_id=interaction.interaction_id, customer_id=interaction.customer_id, outcome=stored.outcome,
            channel=interaction.channel, decided_at=stored.decided_at, program_id=stored.program_id,
            survey_id=stored.survey_id, detail=stored.detail, trigger=interaction.trigger,
        )
        invitation = None
        if stored.survey_id is not None and stored.program_id is not None and stored.send_at is not None:
            program = self.programs.by_id(stored.program_id)
            channel = self.channel_for(interaction, program) if program is not None else None
            if program is not None and channel is not None:
                invitation = invitation_for(interaction, program, stored.survey_id, stored.decided_at,
                                            stored.send_at, channel)
        return Verdict(decision, invitation, replayed)


def track_complaints(state: CustomerState, interaction: Interaction, reasons: tuple[str, ...]) -> None:
    """An unresolved contact about a complaint opens one; a resolved one closes it."""
    if interaction.contact_reason not in reasons:
        return
    if interaction.resolved:
        state.complaint_open_since = None
    elif state.complaint_open_since is None:
        state.complaint_open_since = interaction.ended_at


def invitation_for(
    interaction: Interaction, program: Program, sid: str, created_at: datetime, send_at: datetime,
    channel: str = "email",
) -> Invitation:
    return Invitation(
        survey_id=sid, program_id=program.id, metric=program.metric, interaction_id=interaction.interaction_id,
        customer_id=interaction.customer_id, delivery_channel=channel, created_at=created_at, send_at=send_at,
        expires_at=interaction.ended_at + program.timing.delay + program.timing.expiry,
        interaction_channel=interaction.channel, trigger=interaction.trigger,
        interaction_ended_at=interaction.ended_at, customer_email=interaction.customer_email,
        customer_phone=interaction.customer_phone, locale=interaction.customer_locale,
        handled_by=interaction.handled_by, agent_id=interaction.agent_id, agent_name=interaction.agent_name,
        team_id=interaction.team_id, queue=interaction.queue, contact_reason=interaction.contact_reason,
        handle_time_seconds=interaction.handle_time_seconds, wait_time_seconds=interaction.wait_time_seconds,
        transfers=interaction.transfers, resolved=interaction.resolved,
    )



def burst_order(interactions: list[Interaction], mode: str) -> list[Interaction]:
    """The order in which one customer's burst is considered; the first one invited wins the burst."""
    by_time = sorted(interactions, key=lambda i: (i.ended_at, i.interaction_id))
    if mode == "first":
        return by_time
    return sorted(by_time, key=significance, reverse=True)

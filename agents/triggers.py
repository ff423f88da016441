"""interaction-completed -> survey-decision (one per interaction) and survey-invitation (when sent).

State per customer identity (`customers` table, RocksDB with changelog) holds their survey history, decisions,
consent and open complaints, so caps hold across channels, programs, crashes and replays. Events keyed or
partitioned otherwise than by customer are first re-published, keyed by customer, to an internal topic.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import faust
from faust.types import EventT

from agents.pipeline import Pipeline
from agents.scheduler import Schedule
from cxloop.clock import epoch_ms, from_epoch_ms
from cxloop.contact_policy import CustomerState
from cxloop.decisions import TriggerRules, Verdict, burst_order, decision_key, track_complaints
from cxloop.model import ConsentChange, Interaction, ScoredResponse


def register(pipe: Pipeline, rules: TriggerRules) -> faust.types.AgentT:
    customers = pipe.table("customers", help="customer id -> survey history, decisions, consent (JSON)")
    volumes = pipe.table("agent-volume", help="program|agent|partition -> matching contacts per day (JSON)")
    topics = {
        "interactions": pipe.topic("interaction-completed"), "rekeyed": pipe.internal_topic("interactions-by-customer"),
        "answers": pipe.internal_topic("answers-by-customer"), "consent": pipe.topic("customer-consent"),
    }
    schedule = Schedule(pipe, "triggers")
    topics["ticks"] = schedule.ticks
    programs = rules.programs
    partitions = pipe.settings.topic_partitions

    def weekly_volume(interaction: Interaction, partition: int) -> float:
        program = rules.program_for(interaction)
        if program is None or program.sampling.mode != "adaptive" or not interaction.agent_id:
            return 0.0
        key = f"{program.id}|{interaction.agent_id}|{partition}".encode()
        days: dict[str, int] = json.loads(volumes.get(key) or b"{}")
        today = interaction.ended_at.toordinal()
        days = {d: n for d, n in days.items() if today - int(d) < 7}
        days[str(today)] = days.get(str(today), 0) + 1
        volumes[key] = json.dumps(days).encode()
        return sum(days.values()) * partitions  # customers hash evenly: this partition sees 1/partitions of them

    async def emit(verdict: Verdict) -> None:
        await pipe.send(verdict.decision, key=verdict.decision.customer_id)
        if verdict.invitation is not None:
            await pipe.send(verdict.invitation, key=verdict.invitation.survey_id)

    async def settle(key: bytes, state: CustomerState, partition: int) -> None:
        """Decide every burst whose arbitration window has closed; wake up again for the rest."""
        now = pipe.clock.now()
        window = programs.arbitration.window
        while state.pending and _first_due(state, window) <= now:
            pending = [Interaction.from_record(pipe.codec.decode(Interaction.contract, base64.b64decode(p["v"])))
                       for p in state.pending]
            first = min(i.ended_at for i in pending)
            burst = [i for i in pending if i.ended_at <= first + window]
            winner: str | None = None
            for interaction in burst_order(burst, programs.arbitration.mode):
                verdict = rules.decide(interaction, state, now, weekly_volume(interaction, partition), winner)
                if verdict.invitation is not None and winner is None:
                    winner = interaction.interaction_id
                await emit(verdict)
            decided = {decision_key(i) for i in burst}
            state.pending = [p for p in state.pending if p["k"] not in decided]
        if state.pending:
            schedule.at(key, _first_due(state, window))
        else:
            schedule.done(key)

    async def on_interaction(event: EventT) -> None:
        interaction = pipe.decode(event, Interaction)
        key = interaction.customer_id.encode()
        if await pipe.rekeyed(event, key, topics["rekeyed"]):
            return
        message = event.message
        state = CustomerState.from_json(customers.get(key))
        dkey = decision_key(interaction)
        if dkey in state.decided:  # a replay: repeat the decision, change nothing
            await emit(rules.decide(interaction, state, pipe.clock.now()))
            return
        track_complaints(state, interaction, programs.exclusions.complaint_reasons)
        state.forget_before(interaction.ended_at - programs.memory, interaction.ended_at - programs.dedup_horizon)
        if all(p["k"] != dkey for p in state.pending):
            state.pending.append({"k": dkey, "t": epoch_ms(interaction.ended_at),
                                  "v": base64.b64encode(message.value or b"").decode()})
        await settle(key, state, message.partition)
        customers[key] = state.to_json()

    async def on_answer(event: EventT) -> None:
        scored = pipe.decode(event, ScoredResponse)
        key = scored.customer_id.encode()
        state = CustomerState.from_json(customers.get(key))
        if state.mark_answered(scored.survey_id, scored.responded_at):
            customers[key] = state.to_json()

    async def on_consent(event: EventT) -> None:
        change = pipe.decode(event, ConsentChange)
        key = change.customer_id.encode()
        state = CustomerState.from_json(customers.get(key))
        opted_out = change.status == "opted_out"
        state.opted_out_at = change.changed_at if opted_out else None
        state.opt_out_reason = change.reason or change.source if opted_out else None
        customers[key] = state.to_json()

    async def on_tick(event: EventT) -> None:
        key = event.message.key
        assert key is not None, "ticks are keyed"
        state = CustomerState.from_json(customers.get(key))
        if state.pending:
            await settle(key, state, event.message.partition)
            customers[key] = state.to_json()

    handlers = {"interactions": on_interaction, "rekeyed": on_interaction, "answers": on_answer,
                "consent": on_consent, "ticks": on_tick}
    return pipe.agent("triggers", {topics[kind]: handler for kind, handler in handlers.items()})


def _first_due(state: CustomerState, window: timedelta) -> datetime:
    """When the burst of the earliest pending interaction closes (event time of its end plus the window)."""
    return from_epoch_ms(min(p["t"] for p in state.pending)) + window

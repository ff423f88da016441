"""The one clock: injectable, so delays, expiry and SLAs are testable without sleeping."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


def utc(value: datetime) -> datetime:
    """Timestamps are UTC-aware everywhere; naive ones are taken to be UTC."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def epoch_ms(value: datetime) -> int:
    """Milliseconds since the epoch: how timestamps are kept in table state and tick schedules."""
    return int(value.timestamp() * 1000)


def from_epoch_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, timezone.utc)

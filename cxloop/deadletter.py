"""What goes to `dead-letter`: the reason a message was rejected, where it came from, and its original bytes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cxloop.codec import InvalidRecord, UndecodableMessage
from cxloop.model import InvalidEvent


class UnknownSurvey(LookupError):
    """An answer for a survey this worker has no invitation for."""


def error_type(exc: BaseException) -> str:
    if isinstance(exc, UndecodableMessage):
        return "undecodable"
    if isinstance(exc, (InvalidEvent, InvalidRecord)):
        return "invalid"
    if isinstance(exc, UnknownSurvey):
        return "unknown_survey"
    return "processing_error"


def dead_letter_record(
    *, stage: str, exc: BaseException, topic: str, partition: int, offset: int,
    key: bytes | None, value: bytes | None, now: datetime,
) -> dict[str, Any]:
    return {
        "stage": stage,
        "reason": str(exc) or type(exc).__name__,
        "error_type": error_type(exc),
        "source_topic": topic,
        "source_partition": partition,
        "source_offset": offset,
        "original_key": key,
        "original_value": value,
        "failed_at": now,
    }

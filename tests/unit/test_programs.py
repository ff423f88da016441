"""Survey programs YAML: the shipped files load; a bad file is refused naming the file, the line and the field."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from cxloop.programs import (
    DEFAULT_PROGRAMS,
    DEMO_PROGRAMS,
    ProgramError,
    QuietHours,
    SurveyPrograms,
    load_programs,
    parse_duration,
)
from tests.unit.sample_records import SURVEY_EVERYTHING

SHIPPED = [DEFAULT_PROGRAMS, DEMO_PROGRAMS, *sorted(SURVEY_EVERYTHING.parent.glob("*.yaml"))]

# Line numbers in the table below refer to this file.
GOOD = """\
version: 1
caps:
  any_survey_gap: 3d
programs:
  - id: call-csat
    metric: csat
    match: {triggers: [call_end]}
  - id: chat-csat
    metric: csat
    sampling:
      rate: 0.5
    texts:
      en: {question: "How was the chat?"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "programs.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_programs_file_loads(path: Path) -> None:
    programs = load_programs(path)
    assert programs.programs and all(programs.by_id(p.id) is p for p in programs.programs)


def test_the_good_file_the_bad_ones_are_made_from_loads(tmp_path: Path) -> None:
    programs = load_programs(write(tmp_path, GOOD))
    assert [p.id for p in programs.programs] == ["call-csat", "chat-csat"]
    assert programs.programs[1].sampling.rate == 0.5 and programs.programs[0].timing.expiry == timedelta(days=7)


def test_default_programs_say_what_their_comments_say() -> None:
    programs = load_programs(DEFAULT_PROGRAMS)
    assert (programs.caps.any_survey_gap, programs.caps.max_surveys, programs.caps.window) == (
        timedelta(days=3), 4, timedelta(days=90),
    )
    assert programs.quiet_hours == QuietHours(start=time(21), end=time(8))
    assert set(programs.exclusions.segments) == {"employee", "test"} and programs.exclusions.open_complaint
    assert programs.memory == timedelta(days=90)


def test_memory_covers_the_longest_program_gap() -> None:
    programs = SurveyPrograms.model_validate({
        "caps": {"any_survey_gap": "3d", "window": "30d"},
        "programs": [{"id": "a", "metric": "nps", "program_gap": "180d"}, {"id": "b", "metric": "csat"}],
    })
    assert programs.memory == timedelta(days=180)


@pytest.mark.parametrize(
    "old, new, line, field",
    [
        ("any_survey_gap: 3d", "any_survey_gap: 5 minutes", 3, "caps.any_survey_gap"),
        ("    match: {triggers: [call_end]}", "    timing: {delay: 5 minutes}", 7, "programs[0].timing.delay"),
        ("rate: 0.5", "rate: 1.5", 11, "programs[1].sampling.rate"),
        ("metric: csat\n    sampling", "metric: stars\n    sampling", 9, "programs[1].metric"),
        ("[call_end]", "[call_end, fax_received]", 7, "programs[0].match.triggers[1]"),
        ("id: chat-csat", "id: call-csat", 8, "programs[1].id"),
        ("id: chat-csat", "id: Chat CSAT", 8, "programs[1].id"),
        ("rate: 0.5", "mode: adaptive", 10, "programs[1].sampling"),
        ("rate: 0.5", "rat: 0.5", 11, "programs[1].sampling.rat"),
        ("caps:", "limits:", 2, "limits"),
        ("      en: {question", "      fr: {question", 12, "programs[1].texts"),
        ("metric: csat\n    match", "metric: csat\n    kind: periodic\n    match", 7, "programs[0].kind"),
    ],
    ids=[
        "bad duration", "bad duration in a program", "rate above 1", "unknown metric", "unknown trigger",
        "duplicate program id", "program id with spaces", "adaptive without target", "unknown key",
        "unknown top-level key", "texts without en", "unknown kind",
    ],
)
def test_bad_program_file_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ProgramError) as caught:
        load_programs(path)
    assert f"{path} line {line}: {field}:" in str(caught.value), str(caught.value)


def test_duplicate_program_id_error_names_the_id(tmp_path: Path) -> None:
    with pytest.raises(ProgramError, match="call-csat"):
        load_programs(write(tmp_path, GOOD.replace("id: chat-csat", "id: call-csat")))


def test_every_bad_field_is_named_in_one_error(tmp_path: Path) -> None:
    bad = GOOD.replace("any_survey_gap: 3d", "any_survey_gap: soon").replace("rate: 0.5", "rate: -1")
    with pytest.raises(ProgramError) as caught:
        load_programs(write(tmp_path, bad))
    message = str(caught.value)
    assert "line 3: caps.any_survey_gap" in message and "line 11: programs[1].sampling.rate" in message


@pytest.mark.parametrize(
    "text, line, field",
    [
        ("version: 1\nprograms: []\n", 2, "programs"),
        ("version: 1\ncaps: {any_survey_gap: 3d}\n", 1, "programs"),
        ("version: 2\nprograms:\n  - {id: a, metric: csat}\n", 1, "version"),
        ("version: 1\nquiet_hours: {start: '25:00', end: '08:00'}\nprograms:\n  - {id: a, metric: csat}\n", 2,
         "quiet_hours.start"),
    ],
    ids=["empty programs", "no programs", "unknown version", "hour out of range"],
)
def test_file_without_usable_programs_names_line_and_field(tmp_path: Path, text: str, line: int, field: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProgramError) as caught:
        load_programs(path)
    assert f"{path} line {line}: {field}:" in str(caught.value), str(caught.value)


@pytest.mark.parametrize(
    "text, line",
    [
        (GOOD.replace("metric: csat\n    sampling", "metric: csat: nps\n    sampling"), 9),
        (GOOD.replace("    metric: csat\n    match", "\tmetric: csat\n    match"), 6),
        (GOOD.replace("    texts:", "   texts:"), 12),
    ],
    ids=["mapping inside a value", "tab indentation", "bad indentation"],
)
def test_invalid_yaml_syntax_names_the_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProgramError) as caught:
        load_programs(path)
    assert f"{path} line {line}: not valid YAML" in str(caught.value), str(caught.value)


@pytest.mark.parametrize("text", ["- id: call-csat\n  metric: csat\n", "just words\n", ""],
                         ids=["a list", "a scalar", "empty file"])
def test_file_that_is_not_a_mapping_is_refused_naming_the_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProgramError, match="mapping") as caught:
        load_programs(path)
    assert str(path) in str(caught.value)


def test_missing_file_is_a_program_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ProgramError, match="cannot read") as caught:
        load_programs(tmp_path / "nowhere.yaml")
    assert str(tmp_path / "nowhere.yaml") in str(caught.value)


def test_unquoted_quiet_hours_mean_what_they_say_or_are_refused(tmp_path: Path) -> None:
    # YAML 1.1 reads an unquoted 21:00 as the base-60 integer 1260.
    text = "version: 1\nquiet_hours: {start: 21:00, end: 08:00}\nprograms:\n  - {id: a, metric: csat}\n"
    path = write(tmp_path, text)
    try:
        programs = load_programs(path)
    except ProgramError as exc:
        assert f"{path} line 2: quiet_hours.start" in str(exc)
    else:
        assert programs.quiet_hours == QuietHours(start=time(21), end=time(8))


@pytest.mark.parametrize(
    "value, expected",
    [
        ("30s", timedelta(seconds=30)), ("5m", timedelta(minutes=5)), ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)), ("2w", timedelta(weeks=2)), ("1.5h", timedelta(minutes=90)),
        (" 10m ", timedelta(minutes=10)), (0, timedelta(0)), ("0s", timedelta(0)),
        (timedelta(hours=3), timedelta(hours=3)),
    ],
)
def test_duration_is_a_number_and_a_unit(value: object, expected: timedelta) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize("value", ["5 minutes", "300", 300, "-5m", "", "1:30", "5M", True, None, "m"])
def test_duration_without_a_unit_or_with_an_unknown_one_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)

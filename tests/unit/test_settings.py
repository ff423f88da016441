"""Settings from the environment: bad values fail at start naming the variable to fix; aliases and prefixes work."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxloop.settings import DEV_TOKEN_KEYS, ConfigError, load_settings

ALIASES = ("KAFKA_BOOTSTRAP", "SENDGRID_API_KEY", "CLICKHOUSE_URL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Nothing from the developer's shell or CI leaks in, and nothing a test sets leaks out (monkeypatch undoes it)."""
    for name in list(os.environ):
        if name.startswith("CXLOOP_") or name in ALIASES:
            monkeypatch.delenv(name)
    yield


def names(variable: str, message: str) -> bool:
    return re.search(rf"(?<![A-Z_]){variable}\b", message) is not None


def test_defaults_load_without_any_environment() -> None:
    settings = load_settings()
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.topic_partitions == 4 and settings.programs_file is None
    assert settings.signing_keys == ({"dev": b"cxloop-development-key-change-me"}, "dev")
    assert settings.outbox == Path("var") / "outbox" and settings.chdb_dir == Path("var") / "chdb"


@pytest.mark.parametrize(
    "override, variable",
    [
        ({"topic_partitions": 0}, "CXLOOP_TOPIC_PARTITIONS"),
        ({"topic_partitions": "four"}, "CXLOOP_TOPIC_PARTITIONS"),
        ({"topic_partitions": 5000}, "CXLOOP_TOPIC_PARTITIONS"),
        ({"topic_replication": 0}, "CXLOOP_TOPIC_REPLICATION"),
        ({"app_id": ""}, "CXLOOP_APP_ID"),
        ({"web_port": 70000}, "CXLOOP_WEB_PORT"),
        ({"response_ack_timeout_seconds": 0}, "CXLOOP_RESPONSE_ACK_TIMEOUT_SECONDS"),
        ({"sink_batch_size": 0}, "CXLOOP_SINK_BATCH_SIZE"),
        ({"log_level": "TRACE"}, "CXLOOP_LOG_LEVEL"),
        ({"clickhouse_database": "cx-loop"}, "CXLOOP_CLICKHOUSE_DATABASE"),
    ],
)
def test_bad_value_is_a_config_error_naming_the_environment_variable(
    override: dict[str, object], variable: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**override)
    assert names(variable, str(caught.value)), str(caught.value)


@pytest.mark.parametrize(
    "variable, value",
    [
        ("CXLOOP_TOPIC_PARTITIONS", "0"),
        ("CXLOOP_TOPIC_PARTITIONS", "lots"),
        ("CXLOOP_WEB_PORT", "-1"),
        ("CXLOOP_KAFKA_BOOTSTRAP", "broker-without-port"),
        ("CXLOOP_CLICKHOUSE_DATABASE", "1st_db"),
    ],
)
def test_bad_environment_variable_is_a_config_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert names(variable, str(caught.value)), str(caught.value)


def test_every_bad_field_is_named_in_one_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(topic_partitions=0, web_port=-5, log_level="LOUD")
    message = str(caught.value)
    assert all(names(v, message) for v in ("CXLOOP_TOPIC_PARTITIONS", "CXLOOP_WEB_PORT", "CXLOOP_LOG_LEVEL"))


@pytest.mark.parametrize(
    "bootstrap", ["broker", "broker:", ":9092", "broker:port", "a:9092,b", "a:9092,,b:9092"]
)
def test_bootstrap_servers_need_host_and_port(bootstrap: str) -> None:
    with pytest.raises(ConfigError, match="KAFKA_BOOTSTRAP"):
        load_settings(kafka_bootstrap=bootstrap)


@pytest.mark.parametrize("bootstrap", ["kafka:9092", "k1:9092,k2:9093", "k1:9092, k2:9093", "[::1]:9092"])
def test_valid_bootstrap_servers_are_accepted(bootstrap: str) -> None:
    assert load_settings(kafka_bootstrap=bootstrap).kafka_bootstrap == bootstrap


@pytest.mark.parametrize(
    "keys",
    [
        "no-colon-at-all-0123456789",
        "k1:too-short",
        "k1:",
        ":0123456789abcdef0123",
        "k1:0123456789abcdef0123,k2",
        "k1:0123456789abcdef0123,",
        "",
    ],
    ids=["no colon", "short secret", "empty secret", "empty id", "second key without colon", "trailing comma", "empty"],
)
def test_bad_token_keys_fail_at_start(keys: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(token_keys=keys)
    assert names("CXLOOP_TOKEN_KEYS", str(caught.value))


def test_token_keys_error_does_not_echo_the_secrets() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(token_keys="k1:a-real-production-secret-value,k2:short")
    assert "a-real-production-secret-value" not in str(caught.value)


def test_first_token_key_signs_and_all_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXLOOP_TOKEN_KEYS", "2025q2:second-quarter-secret-xyz, 2025q1:first-quarter-secret-abc")
    keys, active = load_settings().signing_keys
    assert active == "2025q2"
    assert keys == {"2025q2": b"second-quarter-secret-xyz", "2025q1": b"first-quarter-secret-abc"}


def test_token_keys_are_kept_secret_in_the_settings_repr() -> None:
    settings = load_settings(token_keys="k1:do-not-print-this-secret")
    assert "do-not-print-this-secret" not in repr(settings)
    assert DEV_TOKEN_KEYS.split(":")[1] not in repr(load_settings())


@pytest.mark.parametrize(
    "prefix, contract, topic",
    [("", "survey-scored", "survey-scored"), ("acme.", "survey-scored", "acme.survey-scored"),
     ("staging-", "interaction-completed", "staging-interaction-completed")],
)
def test_topic_name_applies_the_prefix(prefix: str, contract: str, topic: str) -> None:
    assert load_settings(topic_prefix=prefix).topic(contract) == topic


def test_topic_prefix_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXLOOP_TOPIC_PREFIX", "acme.")
    assert load_settings().topic("detractor-alert") == "acme.detractor-alert"


def test_plain_kafka_bootstrap_variable_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "kafka-1.internal:9093")
    assert load_settings().kafka_bootstrap == "kafka-1.internal:9093"


def test_prefixed_kafka_bootstrap_wins_over_the_plain_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "from-alias:9092")
    monkeypatch.setenv("CXLOOP_KAFKA_BOOTSTRAP", "from-prefixed:9092")
    assert load_settings().kafka_bootstrap == "from-prefixed:9092"


def test_explicit_override_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "from-env:9092")
    monkeypatch.setenv("CXLOOP_TOPIC_PARTITIONS", "12")
    settings = load_settings(kafka_bootstrap="from-test:9092", topic_partitions=2)
    assert (settings.kafka_bootstrap, settings.topic_partitions) == ("from-test:9092", 2)


def test_bad_plain_kafka_bootstrap_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "no-port-here")
    with pytest.raises(ConfigError, match="KAFKA_BOOTSTRAP"):
        load_settings()


@pytest.mark.parametrize(
    "variable, field", [("SENDGRID_API_KEY", "sendgrid_api_key"), ("CLICKHOUSE_URL", "clickhouse_url")]
)
def test_plain_service_variables_are_honoured(monkeypatch: pytest.MonkeyPatch, variable: str, field: str) -> None:
    monkeypatch.setenv(variable, "http://example.internal:8123")
    value = getattr(load_settings(), field)
    assert (value.get_secret_value() if hasattr(value, "get_secret_value") else value) == "http://example.internal:8123"


def test_programs_file_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CXLOOP_PROGRAMS_FILE", str(tmp_path / "programs.yaml"))
    assert load_settings().programs_file == tmp_path / "programs.yaml"


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValueError):
        settings.topic_partitions = 8


def test_outbox_and_chdb_follow_the_data_dir_unless_set(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert (settings.outbox, settings.chdb_dir) == (tmp_path / "outbox", tmp_path / "chdb")
    explicit = load_settings(data_dir=tmp_path, outbox_dir=tmp_path / "mail")
    assert explicit.outbox == tmp_path / "mail"

"""ClickHouse behind one small interface, with two backends and one DDL.

`ServerClickHouse` talks to a ClickHouse server through clickhouse-connect (`CLICKHOUSE_URL`); `EmbeddedClickHouse`
runs the same engine in-process through chdb at a local path (the default). `insert` is idempotent for a repeated
`dedup_token` (tables set `non_replicated_deduplication_window`), and returns only once the rows are written.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from cxloop.settings import Settings

DDL_DIR = Path(__file__).resolve().parent.parent / "schemas" / "clickhouse"


class ClickHouseError(RuntimeError):
    pass


class ClickHouse(Protocol):
    database: str

    def command(self, sql: str) -> None: ...

    def query(self, sql: str) -> list[dict[str, Any]]: ...

    def insert(self, table: str, rows: Sequence[dict[str, Any]], dedup_token: str | None = None) -> None: ...

    def close(self) -> None: ...

    def using(self, database: str) -> ClickHouse:
        """The same connection, addressing another database (tests use one database each)."""
        ...


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot write {type(value).__name__} to ClickHouse")


class EmbeddedClickHouse:
    """chdb in-process. chdb allows one data path per process; calls are serialized with a lock."""

    def __init__(self, path: Path, database: str) -> None:
        from chdb import session

        path.mkdir(parents=True, exist_ok=True)
        self.database = database
        self._lock = threading.Lock()
        self._session = session.Session(str(path))
        self._run("SET output_format_json_quote_64bit_integers = 0")

    def _run(self, sql: str, fmt: str = "CSV") -> Any:
        with self._lock:
            try:
                return self._session.query(sql, fmt)
            except Exception as exc:  # chdb raises its own error type per version
                raise ClickHouseError(str(exc)) from exc

    def command(self, sql: str) -> None:
        self._run(sql)

    def query(self, sql: str) -> list[dict[str, Any]]:
        result = self._run(sql, "JSONEachRow")
        return [json.loads(line) for line in result.bytes().splitlines() if line.strip()]

    def insert(self, table: str, rows: Sequence[dict[str, Any]], dedup_token: str | None = None) -> None:
        if not rows:
            return
        settings = f" SETTINGS insert_deduplication_token = '{quote(dedup_token)}'" if dedup_token else ""
        body = "\n".join(json.dumps(row, default=_json_value) for row in rows)
        self._run(f"INSERT INTO {self.database}.{table}{settings} FORMAT JSONEachRow\n{body}")

    def close(self) -> None:
        with self._lock:
            self._session.close()

    def using(self, database: str) -> EmbeddedClickHouse:
        view = copy.copy(self)
        view.database = database
        return view


class ServerClickHouse:
    """A ClickHouse server through clickhouse-connect."""

    def __init__(self, url: str, database: str) -> None:
        import clickhouse_connect

        self.database = database
        self._lock = threading.Lock()
        self._client = clickhouse_connect.get_client(dsn=url)

    def command(self, sql: str) -> None:
        with self._lock:
            try:
                self._client.command(sql)
            except Exception as exc:
                raise ClickHouseError(str(exc)) from exc

    def query(self, sql: str) -> list[dict[str, Any]]:
        with self._lock:
            try:
                return list(self._client.query(sql).named_results())
            except Exception as exc:
                raise ClickHouseError(str(exc)) from exc

    def insert(self, table: str, rows: Sequence[dict[str, Any]], dedup_token: str | None = None) -> None:
        if not rows:
            return
        columns = list(rows[0])
        settings = {"insert_deduplication_token": dedup_token} if dedup_token else {}
        with self._lock:
            try:
                self._client.insert(
                    table, [[row[c] for c in columns] for row in rows], column_names=columns,
                    database=self.database, settings=settings,
                )
            except Exception as exc:
                raise ClickHouseError(str(exc)) from exc

    def close(self) -> None:
        self._client.close()

    def using(self, database: str) -> ServerClickHouse:
        view = copy.copy(self)
        view.database = database
        return view


def quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def open_clickhouse(settings: Settings) -> ClickHouse:
    """The configured backend, migrated to the current DDL."""
    backend: ClickHouse
    if settings.clickhouse_url:
        backend = ServerClickHouse(settings.clickhouse_url, settings.clickhouse_database)
    else:
        backend = EmbeddedClickHouse(settings.chdb_dir, settings.clickhouse_database)
    migrate(backend)
    return backend


def migrate(backend: ClickHouse, ddl_dir: Path = DDL_DIR) -> list[str]:
    """Apply `schemas/clickhouse/*.sql` in name order, once each; returns the files applied now."""
    db = backend.database
    backend.command(f"CREATE DATABASE IF NOT EXISTS {db}")
    backend.command(
        f"CREATE TABLE IF NOT EXISTS {db}.schema_migrations (name String, applied_at DateTime64(3, 'UTC')) "
        "ENGINE = ReplacingMergeTree ORDER BY name"
    )
    done = {row["name"] for row in backend.query(f"SELECT name FROM {db}.schema_migrations FINAL")}
    applied = []
    for path in sorted(ddl_dir.glob("*.sql")):
        if path.name in done:
            continue
        for statement in _statements(path.read_text()):
            backend.command(statement.replace("{db}", db))
        backend.insert("schema_migrations", [{"name": path.name, "applied_at": datetime.now(timezone.utc)}])
        applied.append(path.name)
    return applied


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def table_columns(backend: ClickHouse, table: str) -> list[str]:
    return [row["name"] for row in backend.query(f"DESCRIBE TABLE {backend.database}.{table}")]

"""The one Avro codec every producer and agent uses.

Wire format: the Confluent framing (magic byte 0, 4-byte big-endian schema id) followed by a schemaless Avro body.
Without a schema registry, a schema's id is derived from its canonical-form fingerprint, so every process that ships
the same `schemas/` agrees on ids with no coordination. With a registry (`CXLOOP_SCHEMA_REGISTRY_URL`), ids are the
registry's and unknown writer ids are fetched from it, which lets producers on a newer schema version be read.
"""

from __future__ import annotations

import io
import json
import struct
import urllib.request
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form
from fastavro.types import Schema
from fastavro.validation import ValidationError, validate

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
MAGIC = 0
HEADER = struct.Struct(">bI")


class UndecodableMessage(ValueError):
    """The bytes are not a cxloop Avro message of the expected contract."""


class InvalidRecord(ValueError):
    """A record does not fit its contract (a producer-side bug or bad input)."""


def load_schema(contract: str, schemas_dir: Path = SCHEMAS_DIR) -> Schema:
    path = schemas_dir / f"{contract}.avsc"
    if not path.exists():
        raise KeyError(f"no Avro contract named {contract!r} in {schemas_dir}")
    return fastavro.parse_schema(json.loads(path.read_text()))


def local_schema_id(schema: Schema) -> int:
    """A stable 31-bit id from the schema's Rabin fingerprint (Avro parsing canonical form)."""
    digest = fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO")
    return int(digest[:8], 16) & 0x7FFFFFFF


class SchemaRegistry:
    """Minimal Confluent Schema Registry client: register a subject's schema, fetch a schema by id."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, headers={"Content-Type": "application/vnd.schemaregistry.v1+json"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as reply:
            return json.loads(reply.read())

    def register(self, subject: str, schema: Schema) -> int:
        reply = self._call(f"/subjects/{subject}/versions", {"schema": json.dumps(schema)})
        return int(reply["id"])

    def fetch(self, schema_id: int) -> Schema:
        reply = self._call(f"/schemas/ids/{schema_id}")
        return fastavro.parse_schema(json.loads(reply["schema"]))


class Codec:
    """Encodes and decodes records of the named contracts (`schemas/<contract>.avsc`)."""

    def __init__(self, registry: SchemaRegistry | None = None, schemas_dir: Path = SCHEMAS_DIR) -> None:
        self._registry = registry
        self._schemas_dir = schemas_dir
        self._writer_ids: dict[str, int] = {}
        self._writers_by_id: dict[int, Schema] = {}

    def schema(self, contract: str) -> Schema:
        return _cached_schema(contract, self._schemas_dir)

    def _schema_id(self, contract: str) -> int:
        if contract not in self._writer_ids:
            schema = self.schema(contract)
            if self._registry is not None:
                schema_id = self._registry.register(f"{contract}-value", schema)
            else:
                schema_id = local_schema_id(schema)
            self._writer_ids[contract] = schema_id
            self._writers_by_id[schema_id] = schema
        return self._writer_ids[contract]

    def encode(self, contract: str, record: Mapping[str, Any]) -> bytes:
        schema_id = self._schema_id(contract)
        buffer = io.BytesIO()
        buffer.write(HEADER.pack(MAGIC, schema_id))
        try:
            # fastavro's writer coerces silently (7.5 -> 7, "no" -> True); validate types and ranges first. The
            # quiet check is ~10x faster than the one that explains itself (bench/codec.py): explain only failures.
            if not validate(record, self.schema(contract), raise_errors=False):
                validate(record, self.schema(contract), raise_errors=True)
                raise ValueError("fastavro validation failed")
            fastavro.schemaless_writer(buffer, self.schema(contract), dict(record))
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError, ValidationError) as exc:
            raise InvalidRecord(f"record does not fit {contract}: {exc}") from exc
        return buffer.getvalue()

    def decode(self, contract: str, data: bytes | None) -> dict[str, Any]:
        """Decode `data` into a record of `contract`, resolving an older or newer writer schema to ours."""
        if not data or len(data) < HEADER.size:
            raise UndecodableMessage(f"{contract}: message is empty or shorter than the 5-byte header")
        magic, schema_id = HEADER.unpack_from(data)
        if magic != MAGIC:
            raise UndecodableMessage(f"{contract}: magic byte is {magic}, expected {MAGIC} (not Avro wire format)")
        writer = self._writer_schema(contract, schema_id)
        try:
            record = fastavro.schemaless_reader(io.BytesIO(data[HEADER.size :]), writer, self.schema(contract))
        except Exception as exc:  # fastavro raises many types on corrupt bodies
            raise UndecodableMessage(f"{contract}: Avro body does not decode: {exc!r}") from exc
        if not isinstance(record, dict):
            raise UndecodableMessage(f"{contract}: body is not a record")
        return record

    def _writer_schema(self, contract: str, schema_id: int) -> Schema:
        self._schema_id(contract)
        if schema_id not in self._writers_by_id:
            if self._registry is None:
                raise UndecodableMessage(f"{contract}: unknown schema id {schema_id} and no schema registry set")
            try:
                self._writers_by_id[schema_id] = self._registry.fetch(schema_id)
            except OSError as exc:
                raise UndecodableMessage(f"{contract}: schema id {schema_id} not fetched: {exc}") from exc
        return self._writers_by_id[schema_id]


@lru_cache(maxsize=64)
def _cached_schema(contract: str, schemas_dir: Path) -> Schema:
    return load_schema(contract, schemas_dir)

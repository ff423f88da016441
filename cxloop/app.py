"""The Faust app factory: one worker runs the triggers, dispatch, responses, cases, notify and systemic stages."""

from __future__ import annotations

import logging
from pathlib import Path

import faust

from agents import cases, dispatch, notify, responses, systemic, triggers, watchdog
from agents.pipeline import Pipeline
from cxloop.clock import Clock, SystemClock
from cxloop.codec import Codec, SchemaRegistry
from cxloop.decisions import TriggerRules
from cxloop.directory import DEFAULT_DIRECTORY, Directory, load_directory
from cxloop.programs import DEFAULT_PROGRAMS, SurveyPrograms, load_programs
from cxloop.settings import ConfigError, Settings
from cxloop.theme_model import DEFAULT_MODEL, ThemeModel, taxonomy_hash
from cxloop.themes import DEFAULT_THEMES, Taxonomy, ThemeCoder, load_themes
from cxloop.tokens import TokenSigner
from sinks.email import EmailSender, OutboxSender, SendGridSender

log = logging.getLogger(__name__)


def codec_for(settings: Settings) -> Codec:
    registry = SchemaRegistry(settings.schema_registry_url) if settings.schema_registry_url else None
    return Codec(registry)


def signer_for(settings: Settings) -> TokenSigner:
    keys, active = settings.signing_keys
    return TokenSigner(keys, active)


def programs_for(settings: Settings) -> SurveyPrograms:
    """The survey programs; a bad file raises ProgramError naming file, line and field."""
    return load_programs(settings.programs_file or DEFAULT_PROGRAMS)


def directory_for(settings: Settings) -> Directory:
    """People, teams, routing and SLAs; a bad file raises ProgramError naming file, line and field."""
    return load_directory(settings.directory_file or DEFAULT_DIRECTORY)


def themes_for(settings: Settings) -> Taxonomy:
    """The theme taxonomy; a bad file raises ProgramError naming file, line and field."""
    return load_themes(settings.themes_file or DEFAULT_THEMES)


def coder_for(settings: Settings) -> ThemeCoder:
    """The taxonomy's rules, with the learned model CXLOOP_THEME_MODEL names (see cxloop/theme_model.py)."""
    taxonomy = themes_for(settings)
    choice = settings.theme_model.strip()
    if choice == "off":
        return ThemeCoder(taxonomy)
    path = DEFAULT_MODEL if choice == "auto" else Path(choice)
    try:
        model = ThemeModel.load(path)
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError(f"CXLOOP_THEME_MODEL: cannot read the theme model {path}: {e}") from e
    if choice == "auto":
        # the shipped model was trained for the shipped taxonomy's cues; another taxonomy gets its rules only
        if model.meta.get("taxonomy_sha256") == taxonomy_hash(settings.themes_file or DEFAULT_THEMES):
            return ThemeCoder(taxonomy, model)
        log.warning("theme coding by the taxonomy's rules only: the shipped theme model is for the shipped taxonomy "
                    "(train one for yours, see cxloop/theme_model.py)")
        return ThemeCoder(taxonomy)
    ids = [t.id for t in taxonomy.themes]
    if list(model.theme_ids) != ids:
        raise ConfigError(f"CXLOOP_THEME_MODEL: {path} codes themes {list(model.theme_ids)}, "
                          f"the taxonomy has {ids}; train a model for this taxonomy")
    return ThemeCoder(taxonomy, model)


def email_sender_for(settings: Settings) -> EmailSender:
    if settings.sendgrid_api_key is not None:
        return SendGridSender(
            settings.sendgrid_api_key.get_secret_value(), settings.email_from, host=settings.sendgrid_host
        )
    return OutboxSender(settings.outbox, settings.email_from)


def create_app(settings: Settings, clock: Clock | None = None) -> faust.App:
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{server.strip()}" for server in settings.kafka_bootstrap.split(",")],
        store="rocksdb://",
        datadir=str(settings.data_dir / "worker"),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        broker_session_timeout=settings.session_timeout_seconds,
        # Faust's flow control pauses a partition when its stream buffer is under pressure; after restarts with
        # a backlog we saw partitions never resume. A deeper buffer (events are ~1 KiB in memory) avoids it.
        stream_buffer_maxsize=settings.stream_buffer_events,
        table_cleanup_interval=60.0,
    )
    # Table writes queue changelog messages in this buffer; at Faust's default of 100 the conductor keeps waiting
    # for it to drain under a backlog (after a restart), and we saw streams stall there (faust-streaming #173, #175).
    app.producer.buffer.max_messages = 10_000
    programs = programs_for(settings)
    pipe = Pipeline(app, settings, codec_for(settings), clock or SystemClock())
    invitations = pipe.table("invitations", help="survey id -> invitation (Avro), joined by the responses agent")
    answered = pipe.table("answered", help="survey id -> the scored answer (Avro): one response per survey")
    triggers.register(pipe, TriggerRules(programs))
    directory = directory_for(settings)
    sender = email_sender_for(settings)
    dispatch.register(pipe, invitations, answered, sender, signer_for(settings), programs)
    responses.register(pipe, invitations, answered, programs, directory.systemic, coder_for(settings))
    cases.register(pipe, directory)
    systemic.register(pipe, directory)
    notify.register(pipe, directory, sender)
    watchdog.register(pipe, settings.stall_exit_seconds)
    return app

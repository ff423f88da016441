-- cxloop facts, one table per fact topic. {db} is the configured database.
-- ReplacingMergeTree keyed by the fact's id: a replayed message collapses into its first copy (read with FINAL);
-- non_replicated_deduplication_window lets insert_deduplication_token drop a replayed batch at insert time.

CREATE TABLE IF NOT EXISTS {db}.interactions
(
    interaction_id String,
    source_system LowCardinality(String),
    trigger LowCardinality(String),
    channel LowCardinality(String),
    started_at DateTime64(3, 'UTC'),
    ended_at DateTime64(3, 'UTC'),
    customer_key String COMMENT 'keyed pseudonym of the customer id, never raw PII',
    customer_segment LowCardinality(Nullable(String)),
    locale LowCardinality(String),
    handled_by LowCardinality(String),
    agent_id Nullable(String),
    team_id Nullable(String),
    queue Nullable(String),
    contact_reason Nullable(String),
    handle_time_seconds UInt32,
    wait_time_seconds UInt32,
    transfers UInt16,
    resolved Bool,
    first_contact_resolution Nullable(Bool)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ended_at)
ORDER BY interaction_id
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {db}.survey_decisions
(
    interaction_id String,
    trigger LowCardinality(String),
    customer_key String,
    program_id Nullable(String),
    survey_id Nullable(String),
    outcome LowCardinality(String),
    detail String,
    channel LowCardinality(String),
    decided_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(decided_at)
ORDER BY (interaction_id, trigger)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {db}.survey_invitations
(
    survey_id String,
    program_id LowCardinality(String),
    metric LowCardinality(String),
    interaction_id String,
    customer_key String,
    delivery_channel LowCardinality(String),
    locale LowCardinality(String),
    created_at DateTime64(3, 'UTC'),
    send_at DateTime64(3, 'UTC'),
    expires_at DateTime64(3, 'UTC'),
    interaction_channel LowCardinality(String),
    trigger LowCardinality(String),
    agent_id Nullable(String),
    team_id Nullable(String),
    queue Nullable(String),
    contact_reason Nullable(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(created_at)
ORDER BY survey_id
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {db}.survey_scored
(
    survey_id String,
    program_id LowCardinality(String),
    metric LowCardinality(String),
    score UInt8,
    category LowCardinality(String),
    comment Nullable(String),
    themes Array(String),
    source LowCardinality(String),
    responded_at DateTime64(3, 'UTC'),
    scored_at DateTime64(3, 'UTC'),
    interaction_id String,
    customer_key String,
    delivery_channel LowCardinality(String),
    interaction_channel LowCardinality(String),
    trigger LowCardinality(String),
    handled_by LowCardinality(String),
    agent_id Nullable(String),
    team_id Nullable(String),
    queue Nullable(String),
    contact_reason Nullable(String),
    handle_time_seconds UInt32,
    wait_time_seconds UInt32,
    transfers UInt16,
    resolved Bool,
    interaction_ended_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(scored_at)  -- a later comment replaces the score-only row
PARTITION BY toYYYYMM(responded_at)
ORDER BY survey_id
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {db}.detractor_alerts
(
    alert_id String,
    survey_id String,
    raised_at DateTime64(3, 'UTC'),
    priority LowCardinality(String),
    metric LowCardinality(String),
    score UInt8,
    comment Nullable(String),
    themes Array(String),
    customer_key String,
    interaction_id String,
    interaction_channel LowCardinality(String),
    agent_id Nullable(String),
    team_id Nullable(String),
    queue Nullable(String),
    contact_reason Nullable(String)
)
ENGINE = ReplacingMergeTree(raised_at)  -- re-raised with the comment when it arrives
PARTITION BY toYYYYMM(raised_at)
ORDER BY alert_id
SETTINGS non_replicated_deduplication_window = 10000;

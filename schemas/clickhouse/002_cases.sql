-- Follow-up cases: the alert's case and owner, and every step of every case (the case-event log) and escalation.
-- Closure rate, time to first contact, SLA compliance, outcome mix and recovered customers are queries over
-- case_events (one row per step, with the case's state after it) joined to survey_scored by customer_key.

ALTER TABLE {db}.detractor_alerts
    ADD COLUMN IF NOT EXISTS case_id Nullable(String),
    ADD COLUMN IF NOT EXISTS owner_id Nullable(String),
    ADD COLUMN IF NOT EXISTS chronic_critic Bool DEFAULT false;

CREATE TABLE IF NOT EXISTS {db}.case_events
(
    event_id String,
    case_id String,
    seq UInt32,
    customer_key String COMMENT 'keyed pseudonym of the customer id, never raw PII',
    event LowCardinality(String),
    status LowCardinality(String),
    at DateTime64(3, 'UTC'),
    actor String,
    owner_id String,
    level UInt8,
    category LowCardinality(String),
    priority LowCardinality(String),
    opened_at DateTime64(3, 'UTC'),
    due_at DateTime64(3, 'UTC'),
    metric LowCardinality(String),
    score UInt8,
    survey_id Nullable(String),
    team_id Nullable(String),
    agent_id Nullable(String),
    queue Nullable(String),
    contact_reason Nullable(String),
    interaction_channel Nullable(String),
    note Nullable(String),
    outcome Nullable(String),
    root_cause Nullable(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(opened_at)
ORDER BY (case_id, seq)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {db}.case_escalations
(
    escalation_id String,
    case_id String,
    customer_key String,
    kind LowCardinality(String),
    level UInt8,
    owner_id String,
    previous_owner_id String,
    raised_at DateTime64(3, 'UTC'),
    due_at DateTime64(3, 'UTC'),
    overdue_seconds Int64,
    team_id Nullable(String),
    queue Nullable(String),
    contact_reason Nullable(String),
    theme Nullable(String),
    detail String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(raised_at)
ORDER BY escalation_id
SETTINGS non_replicated_deduplication_window = 10000;

-- Deliveries as providers and gateways report them, and per-minute rollups of the scores for dashboards at scale.

CREATE TABLE IF NOT EXISTS {db}.survey_delivery
(
    survey_id String,
    customer_key String,
    channel LowCardinality(String),
    event LowCardinality(String),
    provider LowCardinality(String),
    provider_event_id String,
    occurred_at DateTime64(3, 'UTC'),
    reason String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (survey_id, provider_event_id)
SETTINGS non_replicated_deduplication_window = 10000;

-- One row per minute x program x metric x agent x team x channel x contact reason. Counts are of distinct surveys:
-- a survey's later version (its comment) and a replayed row count once, as the score of a survey never changes.
-- Read with the -Merge combinators, e.g. uniqExactMerge(answers), and the per-point counts for means and shares.
CREATE TABLE IF NOT EXISTS {db}.scores_by_minute
(
    minute DateTime('UTC'),
    program_id LowCardinality(String),
    metric LowCardinality(String),
    agent_id String,
    team_id String,
    interaction_channel LowCardinality(String),
    contact_reason String,
    answers AggregateFunction(uniqExact, String),
    promoters AggregateFunction(uniqExactIf, String, UInt8),
    passives AggregateFunction(uniqExactIf, String, UInt8),
    detractors AggregateFunction(uniqExactIf, String, UInt8),
    top_box AggregateFunction(uniqExactIf, String, UInt8),
    score_points AggregateFunction(groupUniqArray, Tuple(String, UInt8))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, program_id, metric, agent_id, team_id, interaction_channel, contact_reason);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.scores_by_minute_mv TO {db}.scores_by_minute AS
SELECT
    toStartOfMinute(responded_at) AS minute,
    program_id,
    metric,
    ifNull(agent_id, '') AS agent_id,
    ifNull(team_id, '') AS team_id,
    interaction_channel,
    ifNull(contact_reason, '') AS contact_reason,
    uniqExactState(survey_id) AS answers,
    uniqExactIfState(survey_id, toUInt8(category = 'promoter')) AS promoters,
    uniqExactIfState(survey_id, toUInt8(category = 'passive')) AS passives,
    uniqExactIfState(survey_id, toUInt8(category = 'detractor')) AS detractors,
    uniqExactIfState(survey_id, toUInt8(metric = 'csat' AND score >= 4 OR metric = 'ces' AND score >= 5)) AS top_box,
    groupUniqArrayState((survey_id, score)) AS score_points
FROM {db}.survey_scored
GROUP BY minute, program_id, metric, agent_id, team_id, interaction_channel, contact_reason;

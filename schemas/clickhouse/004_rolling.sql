-- The worker's rolling aggregates (Faust windowed tables), one row per window x dimension value x metric; the row
-- with the most answers is the window's value (ReplacingMergeTree on answers; read with FINAL).
CREATE TABLE IF NOT EXISTS {db}.rolling_aggregates
(
    window LowCardinality(String),
    dimension LowCardinality(String),
    value String,
    metric LowCardinality(String),
    window_start DateTime64(3, 'UTC'),
    window_end DateTime64(3, 'UTC'),
    answers UInt32,
    detractors UInt32,
    passives UInt32,
    promoters UInt32,
    score_sum UInt64,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(answers)
PARTITION BY toYYYYMM(window_start)
ORDER BY (window, dimension, value, metric, window_start)
SETTINGS non_replicated_deduplication_window = 10000;

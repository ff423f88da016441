-- Driver analysis results, refreshed on a schedule by the sink (and `cxloop drivers --refresh`): the latest report
-- per metric and segment (all answers, or one program's) as JSON; read with FINAL for the latest.
CREATE TABLE IF NOT EXISTS {db}.driver_results
(
    metric LowCardinality(String),
    segment String,
    computed_at DateTime64(3, 'UTC'),
    since DateTime64(3, 'UTC'),
    n UInt32,
    report String
)
ENGINE = ReplacingMergeTree(computed_at)
ORDER BY (metric, segment);

-- The comment's praised themes and sentiment beside its problem themes; driver analysis results, refreshed on a
-- schedule by `cxloop drivers --refresh` (and the sink), one row per computation and item.
ALTER TABLE {db}.survey_scored
    ADD COLUMN IF NOT EXISTS praised Array(String) DEFAULT [],
    ADD COLUMN IF NOT EXISTS sentiment Nullable(Float32);

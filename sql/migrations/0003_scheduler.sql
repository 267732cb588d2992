-- Scheduling and retention.
-- The 1 minute to 1 day range for a poll interval is the operator's rule and is
-- enforced by `pipeline feeds` (PIPELINE_FEED_MIN_POLL_INTERVAL lowers it for
-- tests and demos); the database only refuses what can never be right.
ALTER TABLE feeds DROP CONSTRAINT feeds_poll_interval_check;
ALTER TABLE feeds ADD CONSTRAINT feeds_poll_interval_check
    CHECK (poll_interval BETWEEN interval '1 second' AND interval '1 day');

-- Retention deletes the oldest rows in batches; a feed run goes only once no
-- price history or quarantine row points at it (quarantine has its index).
CREATE INDEX feed_runs_started_idx ON feed_runs (started_at);
CREATE INDEX price_history_run_idx ON price_history (feed_run_id);

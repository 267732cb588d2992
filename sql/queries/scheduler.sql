-- lead_tick --
-- One replica leads a tick. The lock is transaction-scoped: it is released by
-- the COMMIT or ROLLBACK that ends the claim, on the same server connection
-- that took it, so it also holds behind a transaction-pooling PgBouncer (a
-- session lock could be taken on one server connection and never released on
-- another). Returns false when another replica is ticking right now.
SELECT pg_try_advisory_xact_lock(hashtext('pipeline:scheduler'));

-- claim_due --
-- Claim up to $1 due feeds (not paused), oldest due first, and advance each
-- one's next_run_at from its previous due time, not from now, by as many whole
-- intervals as needed to pass now: the schedule never drifts, and a scheduler
-- that was down for an hour does not replay the missed ticks. SKIP LOCKED:
-- a feed an operator is editing right now is claimed by the next tick.
-- `queued` tells whether the feed's ingest is already waiting (its queueing
-- lock is taken): that job covers this due time too.
-- The jitter ($2 seconds at most, and never more than a twentieth of the
-- interval) delays the job, not the schedule, so it spreads feeds due on the
-- same second without moving the next due time.
-- $1 batch size, $2 maximum jitter in seconds
WITH due AS (
    SELECT f.id, f.next_run_at, f.poll_interval, d.tier
    FROM feeds f
    JOIN dealers d ON d.id = f.dealer_id
    WHERE f.status <> 'PAUSED' AND f.next_run_at <= now()
    ORDER BY f.next_run_at, f.id
    LIMIT $1
    FOR UPDATE OF f SKIP LOCKED
),
advanced AS (
    UPDATE feeds f
    SET next_run_at = due.next_run_at + due.poll_interval * (
        floor(extract(epoch FROM now() - due.next_run_at)
              / extract(epoch FROM due.poll_interval)) + 1)
    FROM due
    WHERE f.id = due.id
    RETURNING f.id, f.next_run_at, due.next_run_at AS due_at, due.poll_interval, due.tier
)
SELECT a.id, a.tier, a.due_at, a.next_run_at,
       'ingest:feed:' || a.id AS lock,
       EXISTS (SELECT 1 FROM procrastinate_jobs j
               WHERE j.queueing_lock = 'ingest:feed:' || a.id AND j.status = 'todo') AS queued,
       now() + make_interval(secs => random() * least($2, extract(epoch FROM a.poll_interval) / 20))
           AS scheduled_at
FROM advanced a
ORDER BY a.id;

-- defer_ingests --
-- Every claimed feed's ingest in one call of procrastinate's defer function,
-- in the claim's transaction: a feed is advanced if and only if its job exists.
-- $1 feed ids, $2 locks (lock = queueing lock), $3 priorities, $4 scheduled_at
SELECT procrastinate_defer_jobs_v1(ARRAY(
    SELECT ROW('ingest', 'ingest', t.priority, t.lock, t.lock,
               jsonb_build_object('feed_id', t.id), t.scheduled_at)::procrastinate_job_to_defer_v1
    FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::timestamptz[])
         AS t(id, lock, priority, scheduled_at)
));

-- abandoned_runs --
-- Feed runs left RUNNING by a job that a dead worker held: they failed.
-- $1 job ids
UPDATE feed_runs
SET status = 'FAILED', finished_at = now(),
    error = 'the worker running this job stopped (no heartbeat); the job was retried'
WHERE status = 'RUNNING' AND job_id = ANY($1::bigint[]);

-- prune_jobs --
-- Finished jobs whose last event is older than the age, a batch at a time.
-- A job a periodic task still points at (the latest defer of each) is kept.
-- $1 age in seconds, $2 batch size
WITH old AS (
    SELECT j.id
    FROM procrastinate_jobs j
    WHERE j.status IN ('succeeded', 'failed', 'cancelled', 'aborted')
      AND NOT EXISTS (SELECT 1 FROM procrastinate_events e
                      WHERE e.job_id = j.id AND e.at > now() - make_interval(secs => $1))
      AND NOT EXISTS (SELECT 1 FROM procrastinate_periodic_defers p WHERE p.job_id = j.id)
    ORDER BY j.id
    LIMIT $2
)
DELETE FROM procrastinate_jobs j USING old WHERE j.id = old.id;

-- prune_price_history --
-- $1 age in seconds, $2 batch size
DELETE FROM price_history
WHERE id IN (SELECT id FROM price_history
             WHERE changed_at < now() - make_interval(secs => $1)
             ORDER BY changed_at LIMIT $2);

-- prune_quarantine --
-- $1 age in seconds, $2 batch size
DELETE FROM quarantined_records
WHERE id IN (SELECT id FROM quarantined_records
             WHERE created_at < now() - make_interval(secs => $1)
             ORDER BY created_at LIMIT $2);

-- prune_feed_runs --
-- Old runs that nothing points at any more, never a feed's latest run.
-- $1 age in seconds, $2 batch size
DELETE FROM feed_runs
WHERE id IN (
    SELECT r.id
    FROM feed_runs r
    WHERE r.started_at < now() - make_interval(secs => $1)
      AND r.status <> 'RUNNING'
      AND NOT EXISTS (SELECT 1 FROM price_history h WHERE h.feed_run_id = r.id)
      AND NOT EXISTS (SELECT 1 FROM quarantined_records q WHERE q.feed_run_id = r.id)
      AND EXISTS (SELECT 1 FROM feed_runs newer
                  WHERE newer.feed_id = r.feed_id AND newer.started_at > r.started_at)
    ORDER BY r.started_at
    LIMIT $2);

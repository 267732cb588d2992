-- upsert_dealer --
-- A dealer by name, created if new. The no-op update makes RETURNING see an existing row.
-- $1 name, $2 tier (NULL keeps the current tier)
INSERT INTO dealers AS d (name, tier) VALUES ($1, coalesce($2, 0))
ON CONFLICT (name) DO UPDATE SET tier = coalesce($2, d.tier)
RETURNING id;

-- upsert_feed --
-- A dealer's feed by name; its source and parsing settings are replaced. A new
-- feed is due at once (next_run_at defaults to now()). A NULL poll interval keeps
-- an existing feed's and gives a new one the column default (5 minutes); a given
-- interval only ever brings the next run earlier, so a shorter one takes effect now.
-- $1 dealer_id, $2 name, $3 source, $4 format, $5 profile, $6 columns, $7 auth_username,
-- $8 auth_password, $9 headers, $10 trust_identifiers, $11 poll_interval
INSERT INTO feeds AS f (dealer_id, name, source, format, profile, columns, auth_username,
                        auth_password, headers, trust_identifiers, poll_interval)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, '{}'::jsonb), coalesce($10, true),
        coalesce($11::interval, interval '5 minutes'))
ON CONFLICT (dealer_id, name) DO UPDATE SET
    source = excluded.source, format = excluded.format, profile = excluded.profile,
    columns = excluded.columns, auth_username = excluded.auth_username,
    auth_password = excluded.auth_password, headers = excluded.headers,
    trust_identifiers = excluded.trust_identifiers,
    poll_interval = coalesce($11, f.poll_interval),
    next_run_at = CASE WHEN $11 IS NULL THEN f.next_run_at
                       ELSE least(f.next_run_at, now() + $11) END,
    -- A new source or layout means the old fetch state says nothing about it.
    last_feed_hash = CASE WHEN (f.source, f.format, f.profile, f.columns)
                             IS DISTINCT FROM (excluded.source, excluded.format,
                                               excluded.profile, excluded.columns)
                          THEN NULL ELSE f.last_feed_hash END,
    etag = CASE WHEN f.source IS DISTINCT FROM excluded.source THEN NULL ELSE f.etag END,
    last_modified = CASE WHEN f.source IS DISTINCT FROM excluded.source
                         THEN NULL ELSE f.last_modified END
RETURNING id;

-- feed_run --
-- One feed run with its feed and dealer names, for summaries.
-- $1 feed_run_id
SELECT r.*, f.name AS feed_name, f.format, d.name AS dealer_name
FROM feed_runs r
JOIN feeds f ON f.id = r.feed_id
JOIN dealers d ON d.id = r.dealer_id
WHERE r.id = $1;

-- latest_runs --
-- The latest run of each of the given feeds.
-- $1 feed ids
SELECT DISTINCT ON (r.feed_id) r.*, f.name AS feed_name, f.format, d.name AS dealer_name
FROM feed_runs r
JOIN feeds f ON f.id = r.feed_id
JOIN dealers d ON d.id = r.dealer_id
WHERE r.feed_id = ANY($1::bigint[])
ORDER BY r.feed_id, r.id DESC;

-- quarantine_sample --
-- The latest quarantined row for each kind of first reason (the reason up to its
-- first number or quote), for the given feeds.
-- $1 feed ids, $2 how many
SELECT DISTINCT ON (regexp_replace(q.reasons[1], '\s*[-''"0-9].*$', ''))
       d.name AS dealer_name, q.row_number, q.reasons
FROM quarantined_records q
JOIN dealers d ON d.id = q.dealer_id
WHERE q.feed_id = ANY($1::bigint[])
ORDER BY regexp_replace(q.reasons[1], '\s*[-''"0-9].*$', ''), q.id DESC
LIMIT $2;

-- find_dealer --
-- A dealer by name.
-- $1 name
SELECT id, name, tier FROM dealers WHERE name = $1;

-- list_dealers --
-- Every dealer with its number of feeds and of active SKUs.
SELECT d.id, d.name, d.tier,
       (SELECT count(*) FROM feeds f WHERE f.dealer_id = d.id) AS feeds,
       (SELECT count(*) FROM dealer_skus s WHERE s.dealer_id = d.id AND s.is_active) AS active_skus
FROM dealers d
ORDER BY d.name;

-- feed_by_id --
-- One feed with its dealer's name and tier, and the database clock.
-- $1 feed id
SELECT f.*, d.name AS dealer_name, d.tier, now() AS now
FROM feeds f
JOIN dealers d ON d.id = f.dealer_id
WHERE f.id = $1;

-- feed_by_name --
-- One feed by dealer and feed name, with its dealer's name and tier, and the database clock.
-- $1 dealer name, $2 feed name
SELECT f.*, d.name AS dealer_name, d.tier, now() AS now
FROM feeds f
JOIN dealers d ON d.id = f.dealer_id
WHERE d.name = $1 AND f.name = $2;

-- list_feeds --
-- Feeds with their schedule and latest run, optionally of one dealer or in one status.
-- The latest run is one index probe per feed (feed_runs_feed_idx).
-- $1 dealer name (NULL: every dealer), $2 status (NULL: any)
SELECT f.id, d.name AS dealer_name, f.name, f.format, f.poll_interval, f.status,
       f.failure_count, f.next_run_at, f.next_run_at - now() AS next_in,
       r.status AS run_status, coalesce(r.finished_at, r.started_at) AS run_at,
       now() - coalesce(r.finished_at, r.started_at) AS run_ago
FROM feeds f
JOIN dealers d ON d.id = f.dealer_id
LEFT JOIN LATERAL (
    SELECT status, started_at, finished_at FROM feed_runs
    WHERE feed_id = f.id ORDER BY started_at DESC LIMIT 1
) r ON true
WHERE ($1::text IS NULL OR d.name = $1) AND ($2::text IS NULL OR f.status = $2)
ORDER BY d.name, f.name;

-- recent_runs --
-- A feed's latest runs, newest first, with their duration in milliseconds.
-- $1 feed id, $2 how many
SELECT r.*, coalesce((r.timings ->> 'total')::float8,
                     extract(epoch FROM r.finished_at - r.started_at)::float8 * 1000) AS ms
FROM feed_runs r
WHERE r.feed_id = $1
ORDER BY r.started_at DESC
LIMIT $2;

-- pause_feed --
-- Stop scheduling a feed. The row is locked before its old status is read, so
-- `was` is the status this update replaced even while the scheduler writes the row.
-- $1 feed id
UPDATE feeds f SET status = 'PAUSED'
FROM (SELECT id, status FROM feeds WHERE id = $1 FOR UPDATE) old
WHERE f.id = old.id
RETURNING old.status AS was, f.status, f.next_run_at - now() AS next_in;

-- resume_feed --
-- Schedule a feed again, due now, with its failure count cleared (a FAILING feed's
-- backoff ends too). Locked first, like pause_feed.
-- $1 feed id
UPDATE feeds f SET status = 'ACTIVE', failure_count = 0, next_run_at = now()
FROM (SELECT id, status FROM feeds WHERE id = $1 FOR UPDATE) old
WHERE f.id = old.id
RETURNING old.status AS was, f.status, f.next_run_at - now() AS next_in;

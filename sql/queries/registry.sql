-- upsert_dealer --
-- A dealer by name, created if new. The no-op update makes RETURNING see an existing row.
-- $1 name, $2 tier (NULL keeps the current tier)
INSERT INTO dealers AS d (name, tier) VALUES ($1, coalesce($2, 0))
ON CONFLICT (name) DO UPDATE SET tier = coalesce($2, d.tier)
RETURNING id;

-- upsert_feed --
-- A dealer's feed by name; its source and parsing settings are replaced.
-- $1 dealer_id, $2 name, $3 source, $4 format, $5 profile, $6 columns, $7 auth_username,
-- $8 auth_password, $9 headers, $10 trust_identifiers
INSERT INTO feeds AS f (dealer_id, name, source, format, profile, columns, auth_username,
                        auth_password, headers, trust_identifiers)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, '{}'::jsonb), coalesce($10, true))
ON CONFLICT (dealer_id, name) DO UPDATE SET
    source = excluded.source, format = excluded.format, profile = excluded.profile,
    columns = excluded.columns, auth_username = excluded.auth_username,
    auth_password = excluded.auth_password, headers = excluded.headers,
    trust_identifiers = excluded.trust_identifiers,
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

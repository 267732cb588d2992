-- get_feed --
-- The feed to ingest, with what a conditional fetch and the skip need.
-- $1 feed_id
SELECT f.id, f.dealer_id, d.name AS dealer_name, f.name, f.source, f.format, f.profile,
       f.columns, f.auth_username, f.auth_password, f.headers, f.last_feed_hash,
       f.etag, f.last_modified, f.status
FROM feeds f
JOIN dealers d ON d.id = f.dealer_id
WHERE f.id = $1;

-- start_run --
-- A RUNNING feed run, committed on its own so a failure can still be recorded against it.
-- A run of this feed still RUNNING belongs to an attempt that died without saying so
-- (its connection was killed, its worker too): the job's `lock` means no other
-- ingest of the feed runs now, so unless its job is still being worked on by
-- someone else, it is marked FAILED here.
-- $1 feed_id, $2 dealer_id, $3 job_id, $4 attempt
WITH abandoned AS (
    UPDATE feed_runs r
    SET status = 'FAILED', finished_at = now(),
        error = 'this attempt ended without recording its outcome (lost connection or worker)'
    WHERE r.feed_id = $1 AND r.status = 'RUNNING' AND r.job_id IS NOT NULL
      AND (r.job_id = $3 OR NOT EXISTS (
          SELECT 1 FROM procrastinate_jobs j WHERE j.id = r.job_id AND j.status = 'doing'))
)
INSERT INTO feed_runs (feed_id, dealer_id, job_id, attempt)
VALUES ($1, $2, $3, $4)
RETURNING id;

-- create_staging --
-- The rows of one feed run, dropped at commit. Temporary tables are not WAL-logged.
CREATE TEMPORARY TABLE staged_skus (
    row_number integer NOT NULL,
    sku_hash bytea NOT NULL,
    identity_kind text NOT NULL,
    content_hash bytea NOT NULL,
    match_hash bytea NOT NULL,
    sku text,
    gtin text,
    title text NOT NULL,
    brand text,
    mpn text,
    caliber text,
    grain integer,
    round_count integer,
    bullet_type text,
    case_type text,
    price numeric(12, 2) NOT NULL,
    regular_price numeric(12, 2),
    price_per_round numeric(12, 4),
    in_stock boolean NOT NULL,
    quantity integer,
    url text,
    extra jsonb NOT NULL,
    raw text NOT NULL
) ON COMMIT DROP;

-- quarantine_duplicates --
-- Rows of one feed that share an identity: the first row wins, deterministically;
-- the others leave the staging table for quarantine, naming the winning row.
-- $1 feed_run_id, $2 feed_id, $3 dealer_id
WITH ranked AS (
    SELECT ctid, row_number, min(row_number) OVER (PARTITION BY sku_hash) AS first_row
    FROM staged_skus
),
dropped AS (
    DELETE FROM staged_skus s
    USING ranked r
    WHERE s.ctid = r.ctid AND r.row_number <> r.first_row
    RETURNING s.row_number, s.raw, r.first_row
)
INSERT INTO quarantined_records (feed_run_id, feed_id, dealer_id, row_number, raw, reasons)
SELECT $1, $2, $3, row_number, raw,
       ARRAY['duplicate identity: the same item as row ' || first_row || ', which was kept']
FROM dropped;

-- merge_staged_skus --
-- Upsert the staged rows. A row whose content hash is unchanged (and that is
-- active and owned by this feed) matches the ON CONFLICT but fails its WHERE,
-- so it is not written at all. `previous` reads the rows as they were before
-- this statement (every CTE sees the same snapshot), which gives price_history
-- its old values without a second pass.
-- $1 feed_id, $2 dealer_id, $3 feed_run_id
WITH previous AS (
    SELECT d.id, d.price, d.in_stock
    FROM staged_skus s
    JOIN dealer_skus d ON d.dealer_id = $2 AND d.sku_hash = s.sku_hash
),
merged AS (
    INSERT INTO dealer_skus AS d (
        dealer_id, feed_id, sku_hash, identity_kind, content_hash, match_hash,
        sku, gtin, title, brand, mpn, caliber, grain, round_count, bullet_type, case_type,
        price, regular_price, price_per_round, in_stock, quantity, url, extra, last_run_id
    )
    SELECT $2, $1, s.sku_hash, s.identity_kind, s.content_hash, s.match_hash,
           s.sku, s.gtin, s.title, s.brand, s.mpn, s.caliber, s.grain, s.round_count,
           s.bullet_type, s.case_type, s.price, s.regular_price, s.price_per_round,
           s.in_stock, s.quantity, s.url, s.extra, $3
    FROM staged_skus s
    ON CONFLICT (dealer_id, sku_hash) DO UPDATE SET
        feed_id = excluded.feed_id,
        identity_kind = excluded.identity_kind,
        content_hash = excluded.content_hash,
        match_hash = excluded.match_hash,
        sku = excluded.sku,
        gtin = excluded.gtin,
        title = excluded.title,
        brand = excluded.brand,
        mpn = excluded.mpn,
        caliber = excluded.caliber,
        grain = excluded.grain,
        round_count = excluded.round_count,
        bullet_type = excluded.bullet_type,
        case_type = excluded.case_type,
        price = excluded.price,
        regular_price = excluded.regular_price,
        price_per_round = excluded.price_per_round,
        in_stock = excluded.in_stock,
        quantity = excluded.quantity,
        url = excluded.url,
        extra = excluded.extra,
        last_run_id = excluded.last_run_id,
        needs_match = d.needs_match OR d.match_hash <> excluded.match_hash,
        last_change_type = CASE
            WHEN NOT d.is_active THEN 'REACTIVATED'
            WHEN d.price <> excluded.price THEN 'PRICE'
            WHEN d.in_stock <> excluded.in_stock
                 OR d.quantity IS DISTINCT FROM excluded.quantity THEN 'STOCK'
            ELSE 'ATTRIBUTE'
        END,
        is_active = true,
        deactivated_at = NULL,
        updated_at = now()
    WHERE d.content_hash <> excluded.content_hash
       OR NOT d.is_active
       OR d.feed_id <> excluded.feed_id
    RETURNING d.id, (d.xmax = 0) AS created, d.price, d.in_stock
),
history AS (
    INSERT INTO price_history (dealer_sku_id, feed_run_id, old_price, new_price,
                               old_in_stock, new_in_stock)
    SELECT m.id, $3, p.price, m.price, p.in_stock, m.in_stock
    FROM merged m
    JOIN previous p ON p.id = m.id
    WHERE NOT m.created AND (p.price <> m.price OR p.in_stock <> m.in_stock)
    RETURNING 1
)
SELECT (SELECT count(*) FROM staged_skus) AS staged,
       count(*) FILTER (WHERE created) AS created,
       count(*) FILTER (WHERE NOT created) AS updated,
       (SELECT count(*) FROM history) AS price_changes
FROM merged;

-- deactivate_absent --
-- This feed's active SKUs that the complete feed no longer carries. Runs only
-- after the whole feed was parsed and merged, in the same transaction.
-- $1 feed_id, $2 feed_run_id
WITH gone AS (
    UPDATE dealer_skus d
    SET is_active = false, deactivated_at = now(), last_change_type = 'DEACTIVATED',
        last_run_id = $2, updated_at = now()
    WHERE d.feed_id = $1
      AND d.is_active
      AND NOT EXISTS (SELECT 1 FROM staged_skus s WHERE s.sku_hash = d.sku_hash)
    RETURNING 1
)
SELECT count(*) FROM gone;

-- finish_run --
-- $1 feed_run_id, $2 status, $3 rows_total, $4 created, $5 updated, $6 unchanged,
-- $7 deactivated, $8 quarantined, $9 price_changes, $10 bytes, $11 feed_hash, $12 timings
UPDATE feed_runs
SET status = $2, finished_at = now(), rows_total = $3, created = $4, updated = $5,
    unchanged = $6, deactivated = $7, quarantined = $8, price_changes = $9, bytes = $10,
    feed_hash = $11, timings = $12
WHERE id = $1;

-- record_success --
-- The feed's fetch state after a successful or unchanged run.
-- $1 feed_id, $2 feed_hash, $3 etag, $4 last_modified
UPDATE feeds
SET last_feed_hash = coalesce($2, last_feed_hash), etag = $3, last_modified = $4,
    failure_count = 0, last_run_at = now(), last_success_at = now(),
    status = CASE WHEN status = 'FAILING' THEN 'ACTIVE' ELSE status END
WHERE id = $1;

-- fail_run --
-- $1 feed_run_id, $2 error, $3 timings, $4 bytes
UPDATE feed_runs
SET status = 'FAILED', finished_at = now(), error = $2, timings = $3, bytes = $4
WHERE id = $1;

-- record_failure --
-- One more consecutive failure: the next run waits the interval times 2^(failures - 1),
-- at most the cap, and never comes sooner than the schedule already says. After
-- $2 failures in a row an active feed is FAILING; it keeps being polled (at the
-- capped wait) and is ACTIVE again after its next success.
-- $1 feed_id, $2 failures before FAILING, $3 backoff cap in seconds
UPDATE feeds
SET failure_count = failure_count + 1, last_run_at = now(),
    status = CASE WHEN status = 'ACTIVE' AND failure_count + 1 >= $2 THEN 'FAILING'
                  ELSE status END,
    next_run_at = greatest(
        next_run_at,
        now() + least(poll_interval * power(2, least(failure_count, 30)),
                      make_interval(secs => $3)))
WHERE id = $1;

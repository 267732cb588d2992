-- benchmark_page --
-- One keyset page of dirty products, done in one statement: read the offers,
-- trim outliers, compute the statistics, upsert benchmarks (a row is written
-- only when a value changed), snapshot exactly the changed ones, drop the
-- benchmark of a product nobody offers any more, clear the dirty flags, and
-- mark every dealer carrying a product of the page for insights.
-- Offers are active, in-stock SKUs from a feed that succeeded within the
-- lookback. Outliers are trimmed by the IQR rule (1.5 x IQR on price per
-- round) when a product has at least $4 points.
-- FOR NO KEY UPDATE SKIP LOCKED: a product a matcher is marking right now is
-- skipped; that matcher's commit defers another benchmark job, which takes it.
-- Not FOR UPDATE: that would also block the KEY SHARE locks that foreign keys
-- take on the product (an insight row written for it), and an insight job
-- holding its dealer's marker while waiting on this page's products, as this
-- page waits on that marker, is a deadlock.
-- $1 after id, $2 page size, $3 lookback days, $4 minimum points for trimming
WITH page AS (
    SELECT p.id
    FROM canonical_products p
    WHERE p.benchmark_dirty AND p.id > $1
    ORDER BY p.id
    LIMIT $2
    FOR NO KEY UPDATE SKIP LOCKED
),
offers AS (
    SELECT d.canonical_product_id AS product_id, d.dealer_id, d.price,
           coalesce(d.price_per_round, d.price / nullif(d.round_count, 0)) AS per_round
    FROM dealer_skus d
    JOIN page ON page.id = d.canonical_product_id
    JOIN feeds f ON f.id = d.feed_id
    WHERE d.is_active AND d.in_stock
      AND coalesce(f.last_success_at, d.updated_at) >= now() - make_interval(days => $3)
),
fences AS (
    SELECT product_id, count(*) AS n,
           percentile_cont(0.25) WITHIN GROUP (ORDER BY coalesce(per_round, price)) AS q1,
           percentile_cont(0.75) WITHIN GROUP (ORDER BY coalesce(per_round, price)) AS q3
    FROM offers
    GROUP BY product_id
),
kept AS (
    SELECT o.*, f.n
    FROM offers o
    JOIN fences f USING (product_id)
    WHERE f.n < $4
       OR coalesce(o.per_round, o.price)
          BETWEEN f.q1 - 1.5 * (f.q3 - f.q1) AND f.q3 + 1.5 * (f.q3 - f.q1)
),
stats AS (
    SELECT product_id,
           count(DISTINCT dealer_id)::integer AS seller_count,
           count(*)::integer AS points,
           (max(n) - count(*))::integer AS trimmed,
           min(price) AS min_price,
           percentile_cont(0.25) WITHIN GROUP (ORDER BY price)::numeric(12, 2) AS p25_price,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY price)::numeric(12, 2) AS median_price,
           percentile_cont(0.75) WITHIN GROUP (ORDER BY price)::numeric(12, 2) AS p75_price,
           max(price) AS max_price,
           avg(price)::numeric(12, 2) AS mean_price,
           min(per_round)::numeric(12, 4) AS min_per_round,
           (percentile_cont(0.25) WITHIN GROUP (ORDER BY per_round))::numeric(12, 4)
               AS p25_per_round,
           (percentile_cont(0.5) WITHIN GROUP (ORDER BY per_round))::numeric(12, 4)
               AS median_per_round,
           (percentile_cont(0.75) WITHIN GROUP (ORDER BY per_round))::numeric(12, 4)
               AS p75_per_round,
           max(per_round)::numeric(12, 4) AS max_per_round,
           avg(per_round)::numeric(12, 4) AS mean_per_round,
           CASE WHEN count(DISTINCT dealer_id) >= 3 AND count(*) >= 5 THEN 'HIGH'
                WHEN count(DISTINCT dealer_id) >= 2 THEN 'MEDIUM'
                ELSE 'LOW' END AS confidence
    FROM kept
    GROUP BY product_id
),
upserted AS (
    INSERT INTO benchmarks AS b (
        canonical_product_id, seller_count, points, trimmed, min_price, p25_price,
        median_price, p75_price, max_price, mean_price, min_per_round, p25_per_round,
        median_per_round, p75_per_round, max_per_round, mean_per_round, confidence
    )
    SELECT * FROM stats
    ON CONFLICT (canonical_product_id) DO UPDATE SET
        seller_count = excluded.seller_count, points = excluded.points,
        trimmed = excluded.trimmed, min_price = excluded.min_price,
        p25_price = excluded.p25_price, median_price = excluded.median_price,
        p75_price = excluded.p75_price, max_price = excluded.max_price,
        mean_price = excluded.mean_price, min_per_round = excluded.min_per_round,
        p25_per_round = excluded.p25_per_round, median_per_round = excluded.median_per_round,
        p75_per_round = excluded.p75_per_round, max_per_round = excluded.max_per_round,
        mean_per_round = excluded.mean_per_round, confidence = excluded.confidence,
        computed_at = now()
    WHERE (b.seller_count, b.points, b.trimmed, b.min_price, b.p25_price, b.median_price,
           b.p75_price, b.max_price, b.mean_price, b.min_per_round, b.p25_per_round,
           b.median_per_round, b.p75_per_round, b.max_per_round, b.mean_per_round,
           b.confidence)
          IS DISTINCT FROM
          (excluded.seller_count, excluded.points, excluded.trimmed, excluded.min_price,
           excluded.p25_price, excluded.median_price, excluded.p75_price, excluded.max_price,
           excluded.mean_price, excluded.min_per_round, excluded.p25_per_round,
           excluded.median_per_round, excluded.p75_per_round, excluded.max_per_round,
           excluded.mean_per_round, excluded.confidence)
    RETURNING b.*
),
snapshots AS (
    INSERT INTO pricing_snapshots (
        canonical_product_id, seller_count, points, min_price, median_price, max_price,
        mean_price, min_per_round, median_per_round, max_per_round, confidence
    )
    SELECT canonical_product_id, seller_count, points, min_price, median_price, max_price,
           mean_price, min_per_round, median_per_round, max_per_round, confidence
    FROM upserted
    RETURNING 1
),
removed AS (
    DELETE FROM benchmarks b
    USING page
    WHERE b.canonical_product_id = page.id
      AND NOT EXISTS (SELECT 1 FROM stats s WHERE s.product_id = page.id)
    RETURNING 1
),
cleaned AS (
    UPDATE canonical_products p
    SET benchmark_dirty = false
    FROM page
    WHERE p.id = page.id
    RETURNING 1
),
dealers AS (
    INSERT INTO insight_dirty_dealers (dealer_id)
    SELECT DISTINCT d.dealer_id
    FROM dealer_skus d
    JOIN page ON page.id = d.canonical_product_id
    ON CONFLICT (dealer_id) DO UPDATE SET marked_at = now()
    RETURNING dealer_id
)
SELECT (SELECT max(id) FROM page) AS last_id,
       (SELECT count(*) FROM cleaned) AS products,
       (SELECT count(*) FROM upserted) AS changed,
       (SELECT count(*) FROM snapshots) AS snapshots,
       (SELECT count(*) FROM removed) AS removed,
       ARRAY(SELECT dealer_id FROM dealers ORDER BY dealer_id) AS dealers;

-- dirty_dealers --
-- Every dealer waiting for its insights, whoever marked it.
SELECT ARRAY(SELECT dealer_id FROM insight_dirty_dealers ORDER BY dealer_id);

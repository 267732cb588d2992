-- serialize_matchers --
-- One matcher at a time reads and creates canonical products, so two dealers'
-- matches never create the same product twice. The lock is transaction-scoped
-- and taken before any other statement: under READ COMMITTED every later
-- statement sees the products the previous holder committed.
-- pipeline.matcher tells the benchmark_pending trigger that this transaction
-- marks the products of the mappings it changes itself (migration 0005).
SELECT pg_advisory_xact_lock(hashtext('pipeline:match')),
       set_config('pipeline.matcher', 'on', true);

-- reset_pending --
-- SKUs asking for a (re)match lose their old automatic mapping; the products they
-- leave are marked for benchmarking (returns how many). Manual mappings are never
-- touched. The self-join reads the pre-update row, which RETURNING alone cannot.
-- A SKU with nothing to reset (a new one) is not written.
-- $1 dealer_id
WITH reset AS (
    UPDATE dealer_skus d
    SET canonical_product_id = NULL, match_method = NULL, match_score = NULL,
        match_review_reason = NULL
    FROM dealer_skus o
    WHERE o.id = d.id
      AND d.dealer_id = $1 AND d.needs_match AND d.match_method IS DISTINCT FROM 'manual'
      AND (d.canonical_product_id, d.match_method, d.match_score, d.match_review_reason)
          IS DISTINCT FROM (NULL::bigint, NULL::text, NULL::real, NULL::text)
    RETURNING o.canonical_product_id AS old_product_id
),
marked AS (
    UPDATE canonical_products p
    SET benchmark_dirty = true
    WHERE p.id IN (SELECT old_product_id FROM reset)
    RETURNING 1
)
SELECT count(*) FROM marked;

-- match_gtin --
-- Step 2: a validated GTIN-14 equal to a product's, when the feed is trusted for identifiers.
-- Like every mapping step, it hands the SKU to benchmark itself: the product is
-- marked dirty in the same statement and the SKU's pending flag cleared, so the
-- SKU is written once.
-- $1 dealer_id, $2 matcher_version
WITH mapped AS (
    UPDATE dealer_skus d
    SET canonical_product_id = p.id, match_method = 'gtin', match_score = 1,
        matcher_version = $2, needs_match = false, benchmark_pending = false
    FROM canonical_products p, feeds f
    WHERE d.dealer_id = $1 AND d.needs_match AND d.match_method IS DISTINCT FROM 'manual'
      AND d.gtin IS NOT NULL AND p.gtin = d.gtin
      AND f.id = d.feed_id AND f.trust_identifiers
    RETURNING d.canonical_product_id
),
marked AS (
    UPDATE canonical_products p
    SET benchmark_dirty = true
    WHERE p.id IN (SELECT canonical_product_id FROM mapped)
    RETURNING 1
)
SELECT (SELECT count(*) FROM mapped) AS mapped, (SELECT count(*) FROM marked) AS marked;

-- match_brand_mpn --
-- Step 3: same brand and MPN, unless an attribute or GTIN both sides know conflicts.
-- The lowest product id wins when a catalogue holds duplicates.
-- $1 dealer_id, $2 matcher_version
WITH mapped AS (
UPDATE dealer_skus d
SET canonical_product_id = m.product_id, match_method = 'brand_mpn', match_score = 1,
    matcher_version = $2, needs_match = false, benchmark_pending = false
FROM (
    SELECT DISTINCT ON (s.id) s.id, p.id AS product_id
    FROM dealer_skus s
    JOIN canonical_products p
      ON lower(p.brand) = lower(s.brand) AND upper(p.mpn) = upper(s.mpn)
    WHERE s.dealer_id = $1 AND s.needs_match AND s.match_method IS DISTINCT FROM 'manual'
      AND s.mpn IS NOT NULL AND s.brand IS NOT NULL
      AND NOT (p.round_count IS DISTINCT FROM s.round_count
               AND p.round_count IS NOT NULL AND s.round_count IS NOT NULL)
      AND NOT (p.grain IS DISTINCT FROM s.grain AND p.grain IS NOT NULL AND s.grain IS NOT NULL)
      AND NOT (p.caliber IS DISTINCT FROM s.caliber
               AND p.caliber IS NOT NULL AND s.caliber IS NOT NULL)
      AND NOT (p.gtin <> s.gtin AND p.gtin IS NOT NULL AND s.gtin IS NOT NULL)
    ORDER BY s.id, p.id
) m
WHERE d.id = m.id
RETURNING d.canonical_product_id
),
marked AS (
    UPDATE canonical_products p
    SET benchmark_dirty = true
    WHERE p.id IN (SELECT canonical_product_id FROM mapped)
    RETURNING 1
)
SELECT (SELECT count(*) FROM mapped) AS mapped, (SELECT count(*) FROM marked) AS marked;

-- match_attributes --
-- Step 4: the block is (brand, caliber, grain, round count), all known and equal,
-- so a different round count, grain or caliber can never match. Inside the block
-- the title is scored against the product name with pg_trgm. A clear best is a
-- match; a best in the grey zone, or too close to the runner-up, goes to review
-- with the reason. A best below the review floor is no candidate at all (step 5
-- may create a product). Different known bullet types, GTINs or MPNs (the same
-- brand) are conflicts too: two identifiers that differ name two products.
-- $1 dealer_id, $2 matcher_version, $3 accept score, $4 review floor, $5 margin
WITH scored AS (
    SELECT s.id, p.id AS product_id,
           similarity(lower(s.title), lower(p.name)) AS score
    FROM dealer_skus s
    JOIN canonical_products p
      ON lower(p.brand) = lower(s.brand) AND p.caliber = s.caliber
     AND p.grain = s.grain AND p.round_count = s.round_count
    WHERE s.dealer_id = $1 AND s.needs_match AND s.match_method IS DISTINCT FROM 'manual'
      AND NOT (p.bullet_type IS DISTINCT FROM s.bullet_type
               AND p.bullet_type IS NOT NULL AND s.bullet_type IS NOT NULL)
      AND NOT (p.gtin <> s.gtin AND p.gtin IS NOT NULL AND s.gtin IS NOT NULL)
      AND NOT (upper(p.mpn) <> upper(s.mpn) AND p.mpn IS NOT NULL AND s.mpn IS NOT NULL)
),
ranked AS (
    SELECT id, product_id, score,
           row_number() OVER (PARTITION BY id ORDER BY score DESC, product_id) AS rank,
           lead(score) OVER (PARTITION BY id ORDER BY score DESC, product_id) AS runner_up
    FROM scored
),
best AS (
    SELECT id, product_id, score, runner_up,
           score >= $3 AND score - coalesce(runner_up, 0) >= $5 AS accepted
    FROM ranked
    WHERE rank = 1 AND score >= $4
),
mapped AS (
UPDATE dealer_skus d
SET canonical_product_id = CASE WHEN b.accepted THEN b.product_id END,
    match_method = CASE WHEN b.accepted THEN 'attributes' ELSE 'review' END,
    match_score = b.score,
    matcher_version = $2,
    needs_match = false,
    benchmark_pending = false,
    match_review_reason = CASE
        WHEN b.accepted THEN NULL
        WHEN b.score < $3 THEN format(
            'title similarity %s to product %s is below the match threshold %s',
            round(b.score::numeric, 2), b.product_id, $3)
        ELSE format(
            'two products are too close: %s scores %s, the runner-up %s',
            b.product_id, round(b.score::numeric, 2), round(b.runner_up::numeric, 2))
    END
FROM best b
WHERE d.id = b.id
RETURNING d.canonical_product_id
),
marked AS (
    UPDATE canonical_products p
    SET benchmark_dirty = true
    WHERE p.id IN (SELECT canonical_product_id FROM mapped)
    RETURNING 1
)
SELECT (SELECT count(*) FROM mapped) AS mapped, (SELECT count(*) FROM marked) AS marked;

-- create_products --
-- Step 5: a still unmatched SKU with a GTIN from a trusted feed, or with complete
-- attributes (brand, caliber, grain, round count), creates a canonical product;
-- SKUs of this dealer with the same key share it (map_created links them). A
-- GTIN taken by a concurrent writer (impossible while matchers are serialized)
-- is skipped and left for the next run.
-- $1 dealer_id
INSERT INTO canonical_products (name, gtin, brand, mpn, caliber, grain, round_count,
                                bullet_type, case_type, created_from_sku_id,
                                benchmark_dirty, semantic_hash)
SELECT DISTINCT ON (key)
       title, key_gtin, brand, mpn, caliber, grain, round_count, bullet_type, case_type, id,
       true, md5(concat_ws('|', title, brand, caliber, grain, round_count, bullet_type,
                           case_type))
FROM (
    SELECT s.*,
           CASE WHEN s.gtin IS NOT NULL AND f.trust_identifiers THEN s.gtin END AS key_gtin,
           pipeline_product_key(s.gtin, f.trust_identifiers, s.brand, s.caliber, s.grain,
                                s.round_count, s.bullet_type) AS key
    FROM dealer_skus s
    JOIN feeds f ON f.id = s.feed_id
    WHERE s.dealer_id = $1 AND s.needs_match AND s.match_method IS DISTINCT FROM 'manual'
      AND ((s.gtin IS NOT NULL AND f.trust_identifiers)
           OR (s.brand IS NOT NULL AND s.caliber IS NOT NULL AND s.grain IS NOT NULL
               AND s.round_count IS NOT NULL))
) pending
ORDER BY key, id
ON CONFLICT (gtin) WHERE gtin IS NOT NULL DO NOTHING;

-- map_created --
-- Link every SKU that created_products covered to the product its key's first
-- SKU created in this transaction (created_at = now(): a product the same SKU
-- created in an earlier run is not this one). The join to the new products goes
-- through an index on created_from_sku_id, never CTE against CTE: whatever the
-- planner estimates, it stays n log n (a nested loop of CTE scans was quadratic,
-- 30 s for one dealer's 10,000 new SKUs).
-- $1 dealer_id, $2 matcher_version
WITH pending AS (
    SELECT s.id,
           first_value(s.id) OVER (
               PARTITION BY pipeline_product_key(s.gtin, f.trust_identifiers, s.brand,
                                                 s.caliber, s.grain, s.round_count,
                                                 s.bullet_type)
               ORDER BY s.id) AS creator
    FROM dealer_skus s
    JOIN feeds f ON f.id = s.feed_id
    WHERE s.dealer_id = $1 AND s.needs_match AND s.match_method IS DISTINCT FROM 'manual'
      AND ((s.gtin IS NOT NULL AND f.trust_identifiers)
           OR (s.brand IS NOT NULL AND s.caliber IS NOT NULL AND s.grain IS NOT NULL
               AND s.round_count IS NOT NULL))
)
UPDATE dealer_skus d
SET canonical_product_id = p.id,
    match_method = CASE WHEN d.id = pe.creator THEN 'created' ELSE 'same_key' END,
    match_score = 1, matcher_version = $2, needs_match = false, match_review_reason = NULL,
    benchmark_pending = false  -- a new product is created dirty
FROM pending pe
JOIN canonical_products p ON p.created_from_sku_id = pe.creator AND p.created_at = now()
WHERE d.id = pe.id;

-- finish_unmatched --
-- What is left could not be mapped: say why, so the dealer can fix its data.
-- Manual mappings are confirmed as they are. Returns how many are unmatched.
-- $1 dealer_id, $2 matcher_version
WITH done AS (
    UPDATE dealer_skus d
    SET needs_match = false,
        -- nothing to benchmark for an unmapped SKU; a manual one keeps its flag
        benchmark_pending = d.benchmark_pending AND d.canonical_product_id IS NOT NULL,
        matcher_version = CASE WHEN d.match_method = 'manual' THEN d.matcher_version ELSE $2 END,
        match_method = CASE WHEN d.match_method = 'manual' THEN 'manual' ELSE 'unmatched' END,
        match_score = CASE WHEN d.match_method = 'manual' THEN d.match_score END,
        match_review_reason = CASE WHEN d.match_method = 'manual' THEN NULL ELSE
            CASE WHEN d.gtin IS NOT NULL AND NOT f.trust_identifiers
                 THEN 'the feed''s GTINs are not trusted and ' ELSE '' END
            || 'no product matches and attributes are incomplete: missing '
            || concat_ws(', ',
                   CASE WHEN d.brand IS NULL THEN 'brand' END,
                   CASE WHEN d.caliber IS NULL THEN 'caliber' END,
                   CASE WHEN d.grain IS NULL THEN 'grain' END,
                   CASE WHEN d.round_count IS NULL THEN 'round count' END)
        END
    FROM feeds f
    WHERE f.id = d.feed_id AND d.dealer_id = $1 AND d.needs_match
    RETURNING d.match_method
)
SELECT count(*) FILTER (WHERE match_method = 'unmatched') AS unmatched,
       -- what the planner believes dealer_skus holds (-1: never analyzed), and the
       -- rows changed since its statistics were taken (committed changes only)
       (SELECT reltuples FROM pg_class WHERE oid = 'dealer_skus'::regclass) AS believed_rows,
       (SELECT n_mod_since_analyze FROM pg_stat_user_tables
        WHERE relid = 'dealer_skus'::regclass) AS changed_since
FROM done;

-- analyze --
-- Fresh statistics after a large change of the SKUs (autovacuum's own rule: a
-- tenth of the table changed since the last ANALYZE, this mapping included; done
-- now rather than at autovacuum's next pass). Until autovacuum
-- gets to it, the planner would estimate a new dealer's thousands of SKUs at one
-- row and pick nested loops that compare every pair: the insight statement took
-- 44 s instead of 0.1 s for a new 10,000-SKU dealer. ANALYZE samples a bounded
-- number of rows, so it costs about the same (a few hundred ms) at any size.
ANALYZE dealer_skus;

-- mark_products_dirty --
-- Hand this dealer's price, stock, activity and mapping changes to benchmark:
-- their products are marked dirty and the SKUs' pending flags cleared. Returns
-- how many products were newly marked.
-- $1 dealer_id
WITH cleared AS (
    UPDATE dealer_skus d
    SET benchmark_pending = false
    WHERE d.dealer_id = $1 AND d.benchmark_pending
    RETURNING d.canonical_product_id
),
marked AS (
    UPDATE canonical_products p
    SET benchmark_dirty = true
    WHERE p.id IN (SELECT canonical_product_id FROM cleared)
    RETURNING 1
)
SELECT count(*) FROM marked;

-- mark_dealer_insight_dirty --
-- $1 dealer_id
INSERT INTO insight_dirty_dealers (dealer_id) VALUES ($1)
ON CONFLICT (dealer_id) DO UPDATE SET marked_at = now();

-- claim_dealer --
-- Take the dealer off the insight work list; the rest of the transaction
-- computes its insights, so the marker and the result commit together. A
-- benchmark marking the dealer again meanwhile waits on this row and defers a
-- new job (the running one no longer holds the queueing lock).
-- $1 dealer_id
DELETE FROM insight_dirty_dealers WHERE dealer_id = $1;

-- refresh_insights --
-- Compute every insight candidate of one dealer and upsert them keyed by
-- (dealer SKU, type) in one statement; active insights that are no longer
-- candidates are deactivated (resolved), never deleted. A row is only written
-- when its content changed. Dismissal is left as it is: the dealer's date holds.
-- Per-round prices are compared; "other sellers" are other dealers with the
-- product active and in stock, each counted once at its best price.
-- $1 dealer_id, $2 medium gap, $3 medium sellers, $4 high gap, $5 high sellers,
-- $6 scarce: at most this many sellers in stock, $7 carried by at least this many others,
-- $8 at most this many products the dealer does not carry
WITH mine AS (
    SELECT d.id, d.canonical_product_id AS product_id, d.title, d.price, d.in_stock,
           coalesce(d.price_per_round, d.price / nullif(d.round_count, 0)) AS per_round,
           d.match_method, d.match_review_reason
    FROM dealer_skus d
    WHERE d.dealer_id = $1 AND d.is_active
),
others AS (
    SELECT o.canonical_product_id AS product_id, o.dealer_id,
           min(coalesce(o.price_per_round, o.price / nullif(o.round_count, 0)))
               FILTER (WHERE o.in_stock) AS per_round,
           bool_or(o.in_stock) AS in_stock
    FROM dealer_skus o
    WHERE o.is_active AND o.dealer_id <> $1
      AND o.canonical_product_id IN (SELECT product_id FROM mine)
    GROUP BY 1, 2
),
market AS (
    SELECT m.id,
           count(o.dealer_id) AS carriers,
           count(o.dealer_id) FILTER (WHERE o.in_stock) AS sellers,
           count(o.dealer_id) FILTER (WHERE o.per_round < m.per_round) AS cheaper,
           min(o.per_round) AS cheapest,
           max(o.per_round) FILTER (WHERE o.per_round < m.per_round) AS next_cheaper
    FROM mine m
    JOIN others o ON o.product_id = m.product_id
    GROUP BY m.id
),
priced AS (
    SELECT m.id, m.product_id, m.per_round, k.sellers, k.cheaper, k.cheapest, k.next_cheaper,
           b.median_per_round AS median,
           (m.per_round - b.median_per_round) / b.median_per_round AS gap
    FROM mine m
    JOIN market k ON k.id = m.id
    JOIN benchmarks b ON b.canonical_product_id = m.product_id
    WHERE m.in_stock AND m.per_round IS NOT NULL AND b.median_per_round > 0
),
candidates AS (
    SELECT id AS dealer_sku_id, product_id,
           CASE WHEN gap > 0 THEN 'OVERPRICED' ELSE 'UNDERPRICED' END AS type,
           CASE WHEN abs(gap) >= $4 AND sellers >= $5 THEN 'HIGH' ELSE 'MEDIUM' END AS severity,
           format('$%s/round is %s%% %s the market median of $%s/round (%s other sellers '
                  'in stock); you rank %s of %s, the cheapest is $%s/round (%s%% %s yours)%s',
                  round(per_round, 4), round(abs(gap) * 100, 1),
                  CASE WHEN gap > 0 THEN 'above' ELSE 'below' END,
                  round(median, 4), sellers, cheaper + 1, sellers + 1, round(cheapest, 4),
                  round(abs(per_round - cheapest) / per_round * 100, 1),
                  CASE WHEN cheapest <= per_round THEN 'under' ELSE 'over' END,
                  CASE WHEN next_cheaper IS NOT NULL
                       THEN format(', the next cheaper seller $%s/round ($%s less)',
                                   round(next_cheaper, 4), round(per_round - next_cheaper, 4))
                       ELSE '' END) AS explanation,
           jsonb_build_object('per_round', per_round, 'median_per_round', median,
                              'gap_pct', round(gap * 100, 2), 'sellers', sellers,
                              'rank', cheaper + 1, 'cheapest_per_round', cheapest,
                              'next_cheaper_per_round', next_cheaper) AS details
    FROM priced
    WHERE abs(gap) >= $2 AND sellers >= $3
    UNION ALL
    SELECT m.id, m.product_id, 'STOCK_OPPORTUNITY',
           CASE WHEN k.sellers BETWEEN 1 AND $6 THEN 'HIGH' ELSE 'MEDIUM' END,
           CASE WHEN k.sellers BETWEEN 1 AND $6
                THEN format('you are out of stock while only %s other seller(s) have it in '
                            'stock (%s carry it in all)', k.sellers, k.carriers)
                ELSE format('you are out of stock while %s other sellers carry it (%s in stock)',
                            k.carriers, k.sellers) END,
           jsonb_build_object('sellers_in_stock', k.sellers, 'carriers', k.carriers)
    FROM mine m
    JOIN market k ON k.id = m.id
    WHERE NOT m.in_stock AND (k.sellers BETWEEN 1 AND $6 OR k.carriers >= $7)
    UNION ALL
    SELECT m.id, NULL, 'UNMATCHED', 'LOW',
           format('"%s" is not mapped to a product: %s', m.title,
                  coalesce(m.match_review_reason, 'no match')),
           jsonb_build_object('match_method', m.match_method,
                              'reason', m.match_review_reason)
    FROM mine m
    WHERE m.product_id IS NULL AND m.match_method IN ('unmatched', 'review')
),
-- Products the dealer does not carry (no active SKU mapped to them) that at least
-- $7 sellers have in stock, the most sold first, at most $8 of them: read from
-- the benchmarks, so the cost does not grow with other dealers' SKUs.
not_carried AS (
    SELECT b.canonical_product_id AS product_id, 'STOCK_OPPORTUNITY'::text AS type,
           'MEDIUM'::text AS severity,
           format('you do not carry "%s", which %s other sellers have in stock '
                  '(median $%s/round)', p.name, b.seller_count,
                  coalesce(round(b.median_per_round, 4)::text, '-')) AS explanation,
           jsonb_build_object('carried', false, 'sellers_in_stock', b.seller_count,
                              'median_per_round', b.median_per_round) AS details
    FROM benchmarks b
    JOIN canonical_products p ON p.id = b.canonical_product_id
    WHERE b.seller_count >= $7
      AND NOT EXISTS (SELECT 1 FROM dealer_skus d
                      WHERE d.dealer_id = $1 AND d.is_active
                        AND d.canonical_product_id = b.canonical_product_id)
    ORDER BY b.seller_count DESC, b.canonical_product_id
    LIMIT $8
),
upserted_products AS (
    INSERT INTO dealer_insights AS i (dealer_id, dealer_sku_id, canonical_product_id, type,
                                      severity, explanation, details)
    SELECT $1, NULL, product_id, type, severity, explanation, details
    FROM not_carried
    ON CONFLICT (dealer_id, canonical_product_id, type) WHERE dealer_sku_id IS NULL
    DO UPDATE SET
        severity = excluded.severity,
        explanation = excluded.explanation,
        details = excluded.details,
        is_active = true,
        resolved_at = NULL,
        first_seen_at = CASE WHEN i.is_active THEN i.first_seen_at ELSE now() END,
        updated_at = now()
    WHERE NOT i.is_active
       OR (i.severity, i.explanation, i.details)
          IS DISTINCT FROM (excluded.severity, excluded.explanation, excluded.details)
    RETURNING (i.xmax = 0) AS created
),
upserted AS (
    INSERT INTO dealer_insights AS i (dealer_id, dealer_sku_id, canonical_product_id, type,
                                      severity, explanation, details)
    SELECT $1, dealer_sku_id, product_id, type, severity, explanation, details
    FROM candidates
    ON CONFLICT (dealer_sku_id, type) DO UPDATE SET
        dealer_id = excluded.dealer_id,
        canonical_product_id = excluded.canonical_product_id,
        severity = excluded.severity,
        explanation = excluded.explanation,
        details = excluded.details,
        is_active = true,
        resolved_at = NULL,
        first_seen_at = CASE WHEN i.is_active THEN i.first_seen_at ELSE now() END,
        updated_at = now()
    WHERE NOT i.is_active
       OR (i.severity, i.explanation, i.details, i.canonical_product_id)
          IS DISTINCT FROM
          (excluded.severity, excluded.explanation, excluded.details,
           excluded.canonical_product_id)
    RETURNING (i.xmax = 0) AS created
),
resolved AS (
    UPDATE dealer_insights i
    SET is_active = false, resolved_at = now(), updated_at = now()
    WHERE i.dealer_id = $1 AND i.is_active
      AND CASE WHEN i.dealer_sku_id IS NOT NULL
               THEN NOT EXISTS (SELECT 1 FROM candidates c
                                WHERE c.dealer_sku_id = i.dealer_sku_id AND c.type = i.type)
               ELSE NOT EXISTS (SELECT 1 FROM not_carried n
                                WHERE n.product_id = i.canonical_product_id
                                  AND n.type = i.type) END
    RETURNING 1
),
written AS (
    SELECT created FROM upserted
    UNION ALL
    SELECT created FROM upserted_products
)
SELECT (SELECT count(*) FROM candidates) + (SELECT count(*) FROM not_carried) AS candidates,
       count(*) FILTER (WHERE created) AS created,
       count(*) FILTER (WHERE NOT created) AS updated,
       (SELECT count(*) FROM resolved) AS resolved
FROM written;

-- active_insights --
-- A dealer's active insights that are not dismissed, the most severe first.
-- $1 dealer_id, $2 limit
SELECT i.id, i.type, i.severity, i.explanation, i.details, d.title, d.sku,
       i.first_seen_at, i.updated_at
FROM dealer_insights i
LEFT JOIN dealer_skus d ON d.id = i.dealer_sku_id
WHERE i.dealer_id = $1 AND i.is_active
  AND (i.dismissed_until IS NULL OR i.dismissed_until <= now())
ORDER BY CASE i.severity WHEN 'HIGH' THEN 0 WHEN 'MEDIUM' THEN 1 ELSE 2 END, i.type, i.id
LIMIT $2;

-- dealer_by_name --
-- $1 name
SELECT id FROM dealers WHERE name = $1;

-- dismiss --
-- The dealer hides an insight until a date; it stays tracked meanwhile.
-- $1 insight id, $2 until
UPDATE dealer_insights SET dismissed_until = $2 WHERE id = $1;

-- dealers_of_feeds --
-- $1 feed ids
SELECT DISTINCT d.id, d.name
FROM dealers d JOIN feeds f ON f.dealer_id = d.id
WHERE f.id = ANY($1::bigint[])
ORDER BY d.id;

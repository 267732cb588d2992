-- Match, benchmark and insight: what each stage reads, writes and leaves for the next.
-- The work lists live here (dirty markers), never only in job arguments, so a
-- deduplicated or crashed job loses nothing.

ALTER TABLE canonical_products
    -- Set by the matcher when a product's offers may have changed; drained by benchmark.
    ADD COLUMN benchmark_dirty boolean NOT NULL DEFAULT true,
    -- The SKU whose data created this product (match step 5), for the link back.
    ADD COLUMN created_from_sku_id bigint,
    -- Digest of the text an embedding is computed from; embed runs when it differs
    -- from embedded_hash.
    ADD COLUMN semantic_hash text,
    ADD COLUMN embedded_hash text,
    ADD COLUMN embedding vector(384);

CREATE INDEX canonical_products_dirty_idx ON canonical_products (id) WHERE benchmark_dirty;
CREATE INDEX canonical_products_block_idx
    ON canonical_products (lower(brand), caliber, grain, round_count);
CREATE INDEX canonical_products_mpn_idx
    ON canonical_products (lower(brand), upper(mpn)) WHERE mpn IS NOT NULL;
CREATE INDEX canonical_products_embed_todo_idx ON canonical_products (id)
    WHERE semantic_hash IS DISTINCT FROM embedded_hash;
CREATE INDEX canonical_products_embedding_idx
    ON canonical_products USING hnsw (embedding vector_cosine_ops);

ALTER TABLE dealer_skus
    -- Why a SKU is in review or unmatched, in words the dealer can act on.
    ADD COLUMN match_review_reason text,
    -- A price, stock, activity or mapping change not yet handed to benchmark.
    -- Set by the trigger below (so ingest needs no change), cleared by the matcher.
    ADD COLUMN benchmark_pending boolean NOT NULL DEFAULT true;

CREATE INDEX dealer_skus_benchmark_pending_idx ON dealer_skus (dealer_id) WHERE benchmark_pending;
CREATE INDEX dealer_skus_unmatched_idx ON dealer_skus (dealer_id)
    WHERE canonical_product_id IS NULL AND is_active;

CREATE FUNCTION dealer_skus_mark_benchmark_pending() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.benchmark_pending := true;
    RETURN NEW;
END;
$$;

-- The WHEN clause is evaluated without calling the function, so unchanged rows
-- (and updates of other columns) cost nothing.
CREATE TRIGGER dealer_skus_benchmark_pending
    BEFORE UPDATE ON dealer_skus
    FOR EACH ROW
    WHEN (NOT NEW.benchmark_pending AND (
        OLD.price IS DISTINCT FROM NEW.price
        OR OLD.price_per_round IS DISTINCT FROM NEW.price_per_round
        OR OLD.in_stock IS DISTINCT FROM NEW.in_stock
        OR OLD.is_active IS DISTINCT FROM NEW.is_active
        OR OLD.canonical_product_id IS DISTINCT FROM NEW.canonical_product_id))
    EXECUTE FUNCTION dealer_skus_mark_benchmark_pending();

CREATE TABLE benchmarks (
    canonical_product_id bigint PRIMARY KEY REFERENCES canonical_products (id),
    seller_count integer NOT NULL,
    points integer NOT NULL,
    trimmed integer NOT NULL,
    min_price numeric(12, 2) NOT NULL,
    p25_price numeric(12, 2) NOT NULL,
    median_price numeric(12, 2) NOT NULL,
    p75_price numeric(12, 2) NOT NULL,
    max_price numeric(12, 2) NOT NULL,
    mean_price numeric(12, 2) NOT NULL,
    min_per_round numeric(12, 4),
    p25_per_round numeric(12, 4),
    median_per_round numeric(12, 4),
    p75_per_round numeric(12, 4),
    max_per_round numeric(12, 4),
    mean_per_round numeric(12, 4),
    confidence text NOT NULL CHECK (confidence IN ('LOW', 'MEDIUM', 'HIGH')),
    computed_at timestamptz NOT NULL DEFAULT now()
);

-- One row per actual change of a product's benchmark, never one per run.
CREATE TABLE pricing_snapshots (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    canonical_product_id bigint NOT NULL REFERENCES canonical_products (id),
    seller_count integer NOT NULL,
    points integer NOT NULL,
    min_price numeric(12, 2) NOT NULL,
    median_price numeric(12, 2) NOT NULL,
    max_price numeric(12, 2) NOT NULL,
    mean_price numeric(12, 2) NOT NULL,
    min_per_round numeric(12, 4),
    median_per_round numeric(12, 4),
    max_per_round numeric(12, 4),
    confidence text NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX pricing_snapshots_product_idx ON pricing_snapshots (canonical_product_id, taken_at);

-- Dealers whose insights must be recomputed; drained by the insight job.
CREATE TABLE insight_dirty_dealers (
    dealer_id bigint PRIMARY KEY REFERENCES dealers (id),
    marked_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dealer_insights (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dealer_id bigint NOT NULL REFERENCES dealers (id),
    dealer_sku_id bigint NOT NULL REFERENCES dealer_skus (id),
    canonical_product_id bigint REFERENCES canonical_products (id),
    type text NOT NULL
        CHECK (type IN ('OVERPRICED', 'UNDERPRICED', 'STOCK_OPPORTUNITY', 'UNMATCHED')),
    severity text NOT NULL CHECK (severity IN ('LOW', 'MEDIUM', 'HIGH')),
    explanation text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Resolved insights are deactivated, not deleted; one row per (SKU, type) is reused.
    is_active boolean NOT NULL DEFAULT true,
    dismissed_until timestamptz,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    UNIQUE (dealer_sku_id, type)
);

CREATE INDEX dealer_insights_dealer_active_idx ON dealer_insights (dealer_id) WHERE is_active;

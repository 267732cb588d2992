-- A stock opportunity can be a product the dealer does not carry at all: such an
-- insight has no dealer SKU and is keyed by (dealer, product, type) instead.
ALTER TABLE dealer_insights ALTER COLUMN dealer_sku_id DROP NOT NULL;
ALTER TABLE dealer_insights ADD CONSTRAINT dealer_insights_has_a_subject
    CHECK (dealer_sku_id IS NOT NULL OR canonical_product_id IS NOT NULL);
CREATE UNIQUE INDEX dealer_insights_product_key
    ON dealer_insights (dealer_id, canonical_product_id, type) WHERE dealer_sku_id IS NULL;
-- The candidates: products with enough sellers in stock.
CREATE INDEX benchmarks_sellers_idx ON benchmarks (seller_count DESC, canonical_product_id);

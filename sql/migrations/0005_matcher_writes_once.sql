-- The matcher links the SKUs sharing a new product's key through the SKU that
-- created it; this index keeps that join n log n whatever the planner estimates.
CREATE INDEX canonical_products_created_from_idx ON canonical_products (created_from_sku_id);

-- The matcher marks the products of the mappings it changes itself, in the
-- statement that changes them, and clears the SKU's pending flag there: one
-- write per SKU instead of two. It says so with the transaction-local setting
-- pipeline.matcher; any other change of a SKU's product (an operator's manual
-- mapping) is still flagged for benchmark by this trigger.
DROP TRIGGER dealer_skus_benchmark_pending ON dealer_skus;
CREATE TRIGGER dealer_skus_benchmark_pending
    BEFORE UPDATE ON dealer_skus
    FOR EACH ROW
    WHEN (NOT NEW.benchmark_pending AND (
        OLD.price IS DISTINCT FROM NEW.price
        OR OLD.price_per_round IS DISTINCT FROM NEW.price_per_round
        OR OLD.in_stock IS DISTINCT FROM NEW.in_stock
        OR OLD.is_active IS DISTINCT FROM NEW.is_active
        OR (OLD.canonical_product_id IS DISTINCT FROM NEW.canonical_product_id
            AND current_setting('pipeline.matcher', true) IS DISTINCT FROM 'on')))
    EXECUTE FUNCTION dealer_skus_mark_benchmark_pending();

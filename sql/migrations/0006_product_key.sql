-- The key under which a dealer's unmatched SKUs share one new product: a GTIN the
-- feed is trusted for, else the attributes. match.create_products creates one
-- product per key and match.map_created links the SKUs by the same key, so both
-- must compute it identically: one definition, here.
CREATE FUNCTION pipeline_product_key(
    gtin text, trusted boolean, brand text, caliber text, grain integer,
    round_count integer, bullet_type text
) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN gtin IS NOT NULL AND trusted THEN 'gtin:' || gtin
                ELSE concat_ws('|', 'attr', lower(brand), caliber, grain, round_count,
                               lower(bullet_type))
           END
$$;

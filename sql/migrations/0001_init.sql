-- Foundation: dealers, feeds, feed runs, dealer SKUs, price history, quarantine.
-- Canonical products exist here only as the target of a SKU's mapping; the
-- match stage's migration adds what it needs.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE dealers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    -- Higher tier, higher job priority.
    tier integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE feeds (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dealer_id bigint NOT NULL REFERENCES dealers (id),
    name text NOT NULL,
    -- An http(s) URL, a file:// URL or a local path.
    source text NOT NULL CHECK (btrim(source) <> ''),
    -- NULL: detected from the content.
    format text CHECK (format IN ('csv', 'tsv', 'pipe', 'json', 'jsonl', 'xml')),
    -- Column layout of a headerless feed: a named profile or an explicit list.
    profile text,
    columns text[],
    auth_username text,
    auth_password text,
    headers jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Whether GTINs in this feed may be used to match products.
    trust_identifiers boolean NOT NULL DEFAULT true,
    poll_interval interval NOT NULL DEFAULT interval '5 minutes'
        CHECK (poll_interval BETWEEN interval '1 minute' AND interval '1 day'),
    next_run_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'FAILING', 'PAUSED')),
    failure_count integer NOT NULL DEFAULT 0,
    last_feed_hash bytea,
    etag text,
    last_modified text,
    last_run_at timestamptz,
    last_success_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (dealer_id, name)
);

CREATE INDEX feeds_due_idx ON feeds (next_run_at) WHERE status <> 'PAUSED';

CREATE TABLE feed_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed_id bigint NOT NULL REFERENCES feeds (id),
    dealer_id bigint NOT NULL REFERENCES dealers (id),
    -- RUNNING, then SUCCEEDED (rows merged), UNCHANGED (skipped: 304 or same bytes) or FAILED.
    status text NOT NULL DEFAULT 'RUNNING'
        CHECK (status IN ('RUNNING', 'SUCCEEDED', 'UNCHANGED', 'FAILED')),
    job_id bigint,
    attempt integer NOT NULL DEFAULT 1,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    rows_total integer NOT NULL DEFAULT 0,
    created integer NOT NULL DEFAULT 0,
    updated integer NOT NULL DEFAULT 0,
    unchanged integer NOT NULL DEFAULT 0,
    deactivated integer NOT NULL DEFAULT 0,
    quarantined integer NOT NULL DEFAULT 0,
    price_changes integer NOT NULL DEFAULT 0,
    bytes bigint NOT NULL DEFAULT 0,
    feed_hash bytea,
    -- Milliseconds per phase: fetch, parse_copy, dedupe, merge, deactivate, ...
    timings jsonb NOT NULL DEFAULT '{}'::jsonb,
    error text
);

CREATE INDEX feed_runs_feed_idx ON feed_runs (feed_id, started_at DESC);

CREATE TABLE canonical_products (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    gtin text,
    brand text,
    mpn text,
    caliber text,
    grain integer,
    round_count integer,
    bullet_type text,
    case_type text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX canonical_products_gtin_idx ON canonical_products (gtin) WHERE gtin IS NOT NULL;

CREATE TABLE dealer_skus (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dealer_id bigint NOT NULL REFERENCES dealers (id),
    -- The feed that last carried this SKU; only that feed deactivates it.
    feed_id bigint NOT NULL REFERENCES feeds (id),
    -- Identity: dealer + first present of (sku code, GTIN, normalized title). Never price or stock.
    sku_hash bytea NOT NULL,
    identity_kind text NOT NULL CHECK (identity_kind IN ('sku', 'gtin', 'title')),
    -- Over every mutable field: decides updated vs unchanged.
    content_hash bytea NOT NULL,
    -- Over the fields the matcher reads: a change here (not price, not stock) asks for a rematch.
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
    price numeric(12, 2) NOT NULL CHECK (price > 0),
    regular_price numeric(12, 2),
    price_per_round numeric(12, 4),
    in_stock boolean NOT NULL,
    quantity integer,
    url text,
    extra jsonb NOT NULL DEFAULT '{}'::jsonb,
    canonical_product_id bigint REFERENCES canonical_products (id),
    match_method text,
    match_score real,
    matcher_version text,
    needs_match boolean NOT NULL DEFAULT true,
    last_change_type text NOT NULL DEFAULT 'CREATED'
        CHECK (last_change_type IN
            ('CREATED', 'PRICE', 'STOCK', 'ATTRIBUTE', 'REACTIVATED', 'DEACTIVATED')),
    is_active boolean NOT NULL DEFAULT true,
    -- The run that last wrote this row. Informational, so no foreign key: a key
    -- would cost a check per merged row and block pruning old feed runs.
    last_run_id bigint,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deactivated_at timestamptz,
    UNIQUE (dealer_id, sku_hash)
);

CREATE INDEX dealer_skus_feed_active_idx ON dealer_skus (feed_id) WHERE is_active;
CREATE INDEX dealer_skus_needs_match_idx ON dealer_skus (dealer_id) WHERE needs_match;
CREATE INDEX dealer_skus_product_idx ON dealer_skus (canonical_product_id)
    WHERE canonical_product_id IS NOT NULL;

-- Append-only audit of every price or stock change, written in bulk by the merge.
CREATE TABLE price_history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dealer_sku_id bigint NOT NULL REFERENCES dealer_skus (id),
    feed_run_id bigint NOT NULL REFERENCES feed_runs (id),
    old_price numeric(12, 2),
    new_price numeric(12, 2),
    old_in_stock boolean,
    new_in_stock boolean,
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX price_history_sku_idx ON price_history (dealer_sku_id, changed_at);
CREATE INDEX price_history_changed_at_idx ON price_history (changed_at);

CREATE TABLE quarantined_records (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed_run_id bigint NOT NULL REFERENCES feed_runs (id),
    feed_id bigint NOT NULL REFERENCES feeds (id),
    dealer_id bigint NOT NULL REFERENCES dealers (id),
    -- 1-based data row (the header is not counted).
    row_number integer NOT NULL,
    raw text NOT NULL,
    reasons text[] NOT NULL CHECK (cardinality(reasons) > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX quarantined_records_run_idx ON quarantined_records (feed_run_id);
CREATE INDEX quarantined_records_created_at_idx ON quarantined_records (created_at);

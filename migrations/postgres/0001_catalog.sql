-- Crossdock schema, PostgreSQL. Mirrors ../sqlite/0001_catalog.sql; ids are BIGSERIAL, times are
-- Unix milliseconds, money and exchange rates are decimal strings, settings are JSON.
-- Uniqueness lives here, not in memory: one store per organization, one listing per
-- (product, channel), one job per (kind, channel, product).

CREATE TABLE organizations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- link store variants to existing channel SKUs with the same seller SKU (all channels)
    auto_link BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

-- The organization's one eCommerce store (the source of truth).
CREATE TABLE stores (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL UNIQUE REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    plugin_id TEXT NOT NULL,
    currency TEXT,
    settings TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- TikTok Shop stores (sales channels).
CREATE TABLE channels (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    plugin_id TEXT NOT NULL,
    currency TEXT,
    region TEXT,
    -- channel currency per unit of store currency; required when the currencies differ
    exchange_rate TEXT,
    settings TEXT NOT NULL,
    -- also keep title, description and images in step once listed (prices and stock always are)
    sync_content BIGINT NOT NULL DEFAULT 0,
    -- new store products go to this channel unless deselected
    auto_select BIGINT NOT NULL DEFAULT 1,
    -- units of store stock never offered on this channel, and its share of the rest relative
    -- to the organization's other channels (equal shares split the stock evenly), rounded
    -- down so that channels sharing one stock never oversell it together
    stock_buffer BIGINT NOT NULL DEFAULT 0,
    stock_share BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- Rhai rules, versioned; exactly one version per (channel, kind) is active.
CREATE TABLE rules (
    id BIGSERIAL PRIMARY KEY,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    source TEXT NOT NULL,
    hash TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (channel_id, kind, version)
);

-- Store products as last read; `record` is the full product as JSON.
CREATE TABLE products (
    id BIGSERIAL PRIMARY KEY,
    store_id BIGINT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    record TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    -- 1 once the store reports the product deleted; its listings are deactivated
    deleted BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    UNIQUE (store_id, external_id)
);

-- Which products go to which channel, where the merchant chose differently from the
-- channel's auto_select.
CREATE TABLE product_selections (
    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    selected BIGINT NOT NULL,
    PRIMARY KEY (product_id, channel_id)
);

-- A product's channel category chosen by hand, with its attribute values (JSON).
CREATE TABLE product_categories (
    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    category_id TEXT NOT NULL,
    attributes TEXT NOT NULL,
    PRIMARY KEY (product_id, channel_id)
);

-- Category templates: store product type, tag or vendor -> channel leaf category and its
-- attribute values (JSON). Lower priority wins when several match.
CREATE TABLE category_templates (
    id BIGSERIAL PRIMARY KEY,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    match_field TEXT NOT NULL,
    match_value TEXT NOT NULL,
    category_id TEXT NOT NULL,
    attributes TEXT NOT NULL,
    priority BIGINT NOT NULL DEFAULT 100,
    UNIQUE (channel_id, match_field, match_value)
);

-- What SKU linking found that needs a person: duplicate, ambiguous or conflicting SKUs.
CREATE TABLE link_issues (
    id BIGSERIAL PRIMARY KEY,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    sku TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX link_issues_by_channel ON link_issues (channel_id);

-- Store webhook deliveries already handled, for deduplication.
CREATE TABLE webhook_deliveries (
    store_id BIGINT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (store_id, event_id)
);

-- Variants, indexed by SKU for linking and stock.
CREATE TABLE variants (
    id BIGSERIAL PRIMARY KEY,
    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    price TEXT NOT NULL,
    currency TEXT NOT NULL,
    stock BIGINT NOT NULL,
    UNIQUE (product_id, external_id)
);
CREATE INDEX variants_by_sku ON variants (sku);

-- A product on a channel: its state there and what was last pushed.
CREATE TABLE listings (
    id BIGSERIAL PRIMARY KEY,
    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    external_id TEXT,
    sku_ids TEXT,
    pushed_hash TEXT,
    offer_hash TEXT,
    reason TEXT,
    explanation TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (product_id, channel_id)
);
CREATE INDEX listings_by_channel_state ON listings (channel_id, state);

-- The job queue: one row per (kind, channel, product), re-queued when work comes again.
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_after BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (kind, channel_id, product_id)
);
CREATE INDEX jobs_ready ON jobs (state, run_after);

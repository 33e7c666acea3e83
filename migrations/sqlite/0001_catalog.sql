-- Crossdock schema, SQLite. Mirrors ../postgres/0001_catalog.sql; ids are row ids, times are
-- Unix milliseconds, money and exchange rates are decimal strings, settings are JSON.
-- Uniqueness lives here, not in memory: one store per organization, one listing per
-- (product, channel), one job per (kind, channel, product).

CREATE TABLE organizations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    -- link store variants to existing channel SKUs with the same seller SKU (all channels)
    auto_link INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

-- The organization's one eCommerce store (the source of truth).
CREATE TABLE stores (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL UNIQUE REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    plugin_id TEXT NOT NULL,
    currency TEXT,
    settings TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- TikTok Shop stores (sales channels).
CREATE TABLE channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    plugin_id TEXT NOT NULL,
    currency TEXT,
    region TEXT,
    -- channel currency per unit of store currency; required when the currencies differ
    exchange_rate TEXT,
    settings TEXT NOT NULL,
    -- also keep title, description and images in step once listed (prices and stock always are)
    sync_content INTEGER NOT NULL DEFAULT 0,
    -- new store products go to this channel unless deselected
    auto_select INTEGER NOT NULL DEFAULT 1,
    -- units of store stock never offered on this channel, and its share of the rest relative
    -- to the organization's other channels (equal shares split the stock evenly), rounded
    -- down so that channels sharing one stock never oversell it together
    stock_buffer INTEGER NOT NULL DEFAULT 0,
    stock_share INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

-- Rhai rules, versioned; exactly one version per (channel, kind) is active.
CREATE TABLE rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    source TEXT NOT NULL,
    hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (channel_id, kind, version)
);

-- Store products as last read; `record` is the full product as JSON.
CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    store_id INTEGER NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    record TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    -- 1 once the store reports the product deleted; its listings are deactivated
    deleted INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    UNIQUE (store_id, external_id)
);

-- Which products go to which channel, where the merchant chose differently from the
-- channel's auto_select.
CREATE TABLE product_selections (
    product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    selected INTEGER NOT NULL,
    PRIMARY KEY (product_id, channel_id)
);

-- A product's channel category chosen by hand, with its attribute values (JSON).
CREATE TABLE product_categories (
    product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    category_id TEXT NOT NULL,
    attributes TEXT NOT NULL,
    PRIMARY KEY (product_id, channel_id)
);

-- Category templates: store product type, tag or vendor -> channel leaf category and its
-- attribute values (JSON). Lower priority wins when several match.
CREATE TABLE category_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    match_field TEXT NOT NULL,
    match_value TEXT NOT NULL,
    category_id TEXT NOT NULL,
    attributes TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 100,
    UNIQUE (channel_id, match_field, match_value)
);

-- What SKU linking found that needs a person: duplicate, ambiguous or conflicting SKUs.
CREATE TABLE link_issues (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    sku TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX link_issues_by_channel ON link_issues (channel_id);

-- Store webhook deliveries already handled, for deduplication.
CREATE TABLE webhook_deliveries (
    store_id INTEGER NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (store_id, event_id)
);

-- Variants, indexed by SKU for linking and stock.
CREATE TABLE variants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    price TEXT NOT NULL,
    currency TEXT NOT NULL,
    stock INTEGER NOT NULL,
    UNIQUE (product_id, external_id)
);
CREATE INDEX variants_by_sku ON variants (sku);

-- A product on a channel: its state there and what was last pushed.
CREATE TABLE listings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    external_id TEXT,
    sku_ids TEXT,
    pushed_hash TEXT,
    offer_hash TEXT,
    reason TEXT,
    explanation TEXT,
    updated_at INTEGER NOT NULL,
    UNIQUE (product_id, channel_id)
);
CREATE INDEX listings_by_channel_state ON listings (channel_id, state);

-- The job queue: one row per (kind, channel, product), re-queued when work comes again.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_after INTEGER NOT NULL,
    lease_until INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (kind, channel_id, product_id)
);
CREATE INDEX jobs_ready ON jobs (state, run_after);

-- Orders (contract 0.3.0): every channel order Crossdock has seen, the store order it became,
-- the shipments and after-sale requests that crossed, carrier mappings and per-channel order
-- settings. An order row is its own work item: `version` counts the changes seen (a new
-- channel snapshot, a store change, a retry) and `synced_version` the last one acted on, so a
-- change that arrives while the order is being worked on is acted on after it (level-triggered,
-- as listings are). Mirrors ../sqlite/0005_orders.sql.

ALTER TABLE channels ADD COLUMN order_settings TEXT NOT NULL DEFAULT '{}';
-- where polling of this channel's orders and after-sale requests resumes (Unix ms)
ALTER TABLE channels ADD COLUMN orders_polled_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stores ADD COLUMN orders_polled_until BIGINT NOT NULL DEFAULT 0;

CREATE TABLE channel_orders (
    id BIGSERIAL PRIMARY KEY,
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    channel_order_id TEXT NOT NULL,
    -- the channel's status verbatim, and in the contract's words
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    -- the order as the channel last reported it (JSON), and when it changed there
    snapshot TEXT NOT NULL,
    channel_updated_at BIGINT NOT NULL,
    -- the store order's request-time marker: set before the store's create is called, so a
    -- crash before its answer is recorded leads to a lookup by source identifier, not a second
    -- order
    create_started_at BIGINT,
    store_order_id TEXT,
    store_order_name TEXT,
    -- the store order as last read (JSON): fulfillments, refunds, cancellation
    store_snapshot TEXT,
    -- waiting | held | pending | synced | failed | skipped
    state TEXT NOT NULL,
    -- for failures: a stable kind (unlinked_sku, out_of_stock…), the cause, and how to fix it
    failure_kind TEXT,
    failure TEXT,
    fix TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    synced_version BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_after BIGINT NOT NULL,
    lease_until BIGINT,
    lease_token TEXT,
    store_cancelled BIGINT NOT NULL DEFAULT 0,
    channel_cancel_sent BIGINT NOT NULL DEFAULT 0,
    -- the merchant released an order the order rule held: it is imported without the hold
    released BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (channel_id, channel_order_id)
);
CREATE INDEX channel_orders_due ON channel_orders (run_after) WHERE synced_version < version;
CREATE INDEX channel_orders_store ON channel_orders (store_order_id);
CREATE INDEX channel_orders_state ON channel_orders (channel_id, state);

-- A shipment that crossed, either way: a store fulfillment sent to the channel, or a channel
-- package (TikTok Shipping) recorded in the store.
CREATE TABLE order_shipments (
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES channel_orders(id) ON DELETE CASCADE,
    -- to_channel | to_store
    direction TEXT NOT NULL,
    -- the side it came from: a store fulfillment id, or a channel package id
    source_id TEXT NOT NULL,
    -- the side it went to, once sent
    target_id TEXT,
    carrier TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    -- sent | failed
    state TEXT NOT NULL,
    failure_kind TEXT,
    failure TEXT,
    fix TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (order_id, direction, source_id)
);

-- A channel cancellation, refund or return, and what it became in the store.
CREATE TABLE order_after_sales (
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES channel_orders(id) ON DELETE CASCADE,
    after_sale_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    stage TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    -- the store refund recorded for it, once it is
    store_refund_id TEXT,
    -- open | done | failed | ignored
    state TEXT NOT NULL,
    failure_kind TEXT,
    failure TEXT,
    fix TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (order_id, after_sale_id)
);

-- Store carrier name (lower case) → the channel's shipping provider, per channel.
CREATE TABLE carrier_mappings (
    channel_id BIGINT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    store_carrier TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    provider_name TEXT NOT NULL,
    PRIMARY KEY (channel_id, store_carrier)
);

-- The store catalog read in progress, so a read cut short (a crash, a stop) resumes after
-- its last committed page instead of from page 1; gone once the read completes. And when
-- each product was last seen by a read: a completed read marks deleted the products it did
-- not see since it started. Mirrors ../postgres/0007_import_resume.sql.

CREATE TABLE store_import_progress (
    store_id INTEGER PRIMARY KEY REFERENCES stores(id) ON DELETE CASCADE,
    -- the store's cursor for the next page to read
    next_cursor TEXT NOT NULL,
    -- when the read began (ms): products seen before it were not seen by this read
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

ALTER TABLE products ADD COLUMN seen_at INTEGER;

-- Level-triggered sync: what each channel should hold is derived from state, and every
-- change marks the pairs it affects out of date (see docs/api.md, "How changes propagate").

-- A job re-queued while a worker holds it must run once more: every enqueue bumps the
-- generation, and a worker that settles a job whose generation moved queues it again.
-- The lease token says which claim holds the job, so a worker whose lease ran out (and
-- whose job another worker took back) can neither settle nor renew it.
ALTER TABLE jobs ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN lease_token TEXT;
CREATE INDEX jobs_running_by_lease ON jobs (state, lease_until);

-- Fingerprint of the desired state the last finished push acted on; a pair whose desired
-- state hashes differently is out of date.
ALTER TABLE listings ADD COLUMN target_hash TEXT;
-- Set before a create call goes out and cleared when its answer is recorded: while set, an
-- earlier attempt may have created the listing, so the next attempt searches first.
ALTER TABLE listings ADD COLUMN create_started_at INTEGER;
-- 1 while the listing is deactivated on the channel (by Crossdock, or as the channel says).
ALTER TABLE listings ADD COLUMN deactivated INTEGER NOT NULL DEFAULT 0;

-- Channel-wide inputs (rules, rate, stock options and shares, templates, default category):
-- a change bumps inputs_version; the reconciler recomputes the channel's pairs and then
-- records the version it reconciled.
ALTER TABLE channels ADD COLUMN inputs_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE channels ADD COLUMN reconciled_version INTEGER NOT NULL DEFAULT 0;

-- Link issues belong to one product, so linking one product never wipes another's.
ALTER TABLE link_issues ADD COLUMN product_id INTEGER REFERENCES products(id) ON DELETE CASCADE;
CREATE INDEX link_issues_by_product ON link_issues (channel_id, product_id);

-- What the drift check found on a channel and corrected (a listing edited or deactivated
-- in Seller Center).
CREATE TABLE drift_corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    corrected_at INTEGER NOT NULL
);
CREATE INDEX drift_corrections_by_channel ON drift_corrections (channel_id, corrected_at);

-- Within a channel the job kinds take turns (each calls another platform API with its own
-- rate limit), so the oldest due job of one kind on one channel is found by index.
CREATE INDEX jobs_ready_by_kind ON jobs (state, channel_id, kind, run_after, id);

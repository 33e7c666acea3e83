-- Workers claim jobs channel by channel (each channel gets a fair share of the workers), so
-- the oldest due job of one channel must be found without scanning the others' jobs.
CREATE INDEX jobs_ready_by_channel ON jobs (state, channel_id, run_after, id);

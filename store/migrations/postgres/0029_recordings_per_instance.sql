-- A series has a recording per instance held: each is kept, with its start,
-- so that a ticket for one occurrence gets that occurrence's replay.
ALTER TABLE recordings ADD COLUMN started_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE recordings DROP CONSTRAINT recordings_pkey;
ALTER TABLE recordings ADD PRIMARY KEY (target_kind, target_id, instance);

-- A series has a recording per instance held: each is kept, with its start,
-- so that a ticket for one occurrence gets that occurrence's replay.
CREATE TABLE recordings_new (
    target_kind TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    instance    TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL DEFAULT 0,
    share_url   TEXT    NOT NULL,
    passcode    TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (target_kind, target_id, instance)
);
INSERT INTO recordings_new (target_kind, target_id, instance, share_url, passcode, updated_at)
    SELECT target_kind, target_id, instance, share_url, passcode, updated_at FROM recordings;
DROP TABLE recordings;
ALTER TABLE recordings_new RENAME TO recordings;

-- Adds sent to Zoom whose answer has not been read: after a crash, a
-- timeout or a lost answer Zoom may hold the registrant, and another add
-- would spend one of its 3 adds per email per meeting per day. A row is
-- written before the add and removed once the outcome is known.
CREATE TABLE add_attempts (
    target_kind TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    email       TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    PRIMARY KEY (target_kind, target_id, email)
);

-- Seats with a change sent to Zoom (an add, an approve, a cancel) whose
-- answer has not been read: after a crash, a timeout or a lost reply, Zoom
-- may or may not have made it. A row is written before the call and removed
-- once the outcome is known; until then the seat is looked up on Zoom, not
-- guessed (another add would spend one of Zoom's 3 a day).
CREATE TABLE unsettled_seats (
    target_kind TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    email       TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    PRIMARY KEY (target_kind, target_id, email)
);

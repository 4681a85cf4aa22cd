-- Meetings and webinars woozoom makes from products (events with create:).
-- A row is written as 'creating' before Zoom is asked, so a lost answer is
-- looked up by ref (kept in the meeting's agenda) instead of made twice.
-- Likewise 'deleting' before a delete, so a lost answer is looked up.
-- Made meetings map their product like mappings do (day 0: the event's one
-- meeting; 1..n: the days of a multi-day event). orders_pending: made, and
-- the product's completed orders not yet queued to register on it.
CREATE TABLE made_meetings (
    product_id  INTEGER NOT NULL,
    day         INTEGER NOT NULL DEFAULT 0,
    target_kind TEXT    NOT NULL CHECK (target_kind IN ('meeting', 'webinar')),
    host        TEXT    NOT NULL,
    ref         TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('creating', 'made', 'deleting', 'deleted')),
    target_id   INTEGER NOT NULL DEFAULT 0,
    digest      TEXT    NOT NULL DEFAULT '',
    orders_pending INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (product_id, day)
);
CREATE INDEX made_meetings_target ON made_meetings (target_kind, target_id);

-- Zoom allows each host 100 meeting creates and updates a UTC day; woozoom
-- counts its own before each call.
CREATE TABLE host_usage (
    host TEXT    NOT NULL,
    day  TEXT    NOT NULL, -- YYYY-MM-DD, UTC
    used INTEGER NOT NULL,
    PRIMARY KEY (host, day)
);

-- What woozoom learned of each Zoom account's per-second limits, so that a
-- restart starts at the pace the account allows instead of climbing to it
-- again from a safe one.
CREATE TABLE zoom_pace (
    account      TEXT    PRIMARY KEY,
    light        REAL    NOT NULL,
    medium       REAL    NOT NULL,
    light_limit  REAL    NOT NULL DEFAULT 0,
    medium_limit REAL    NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL
);

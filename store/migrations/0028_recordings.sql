-- The cloud recording of a meeting or webinar, as Zoom last said: its share
-- link and passcode go to the paid attendees (recordings: in config.yaml).
-- Zoom's, so shared by every shop.
CREATE TABLE recordings (
    target_kind TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    instance    TEXT    NOT NULL DEFAULT '',
    share_url   TEXT    NOT NULL,
    passcode    TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (target_kind, target_id)
);

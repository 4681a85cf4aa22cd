-- Meetings and webinars deleted in Zoom (meeting.deleted): new work for
-- them is parked with the reason until the admin maps the product anew.
CREATE TABLE broken_targets (
    target_kind TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (target_kind, target_id)
);

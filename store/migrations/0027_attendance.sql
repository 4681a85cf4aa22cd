-- Who attended an ended meeting or webinar (one instance of a series, by
-- its UUID): each paid attendee of each order, attended or not, with the
-- minutes of their sessions' union; and the participants no paid attendee
-- accounts for, for the organiser. noted_at: the order's note was written;
-- thanked_at: the attendee's customer note (templates.thanks) was.
CREATE TABLE attendance (
    shop        TEXT    NOT NULL DEFAULT 'default',
    target_kind TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    instance    TEXT    NOT NULL,
    order_id    INTEGER NOT NULL,
    email       TEXT    NOT NULL,
    attended    INTEGER NOT NULL,
    minutes     INTEGER NOT NULL DEFAULT 0,
    first_join  INTEGER NOT NULL DEFAULT 0,
    last_leave  INTEGER NOT NULL DEFAULT 0,
    noted_at    INTEGER NOT NULL DEFAULT 0,
    thanked_at  INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (shop, target_kind, target_id, instance, order_id, email)
);
CREATE INDEX attendance_order ON attendance (shop, order_id);

CREATE TABLE unmatched_participants (
    shop        TEXT    NOT NULL DEFAULT 'default',
    target_kind TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    instance    TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    minutes     INTEGER NOT NULL,
    PRIMARY KEY (shop, target_kind, target_id, instance, name, email)
);

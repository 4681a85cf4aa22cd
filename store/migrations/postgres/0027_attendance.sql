-- Who attended an ended meeting or webinar (one instance of a series, by
-- its UUID): each paid attendee of each order, attended or not, with the
-- minutes of their sessions' union; and the participants no paid attendee
-- accounts for, for the organiser. noted_at: the order's note was written;
-- thanked_at: the attendee's customer note (templates.thanks) was.
CREATE TABLE attendance (
    shop        TEXT    NOT NULL DEFAULT 'default',
    target_kind TEXT    NOT NULL,
    target_id   BIGINT NOT NULL,
    instance    TEXT    NOT NULL,
    order_id    BIGINT NOT NULL,
    email       TEXT    NOT NULL,
    attended    BIGINT NOT NULL,
    minutes     BIGINT NOT NULL DEFAULT 0,
    first_join  BIGINT NOT NULL DEFAULT 0,
    last_leave  BIGINT NOT NULL DEFAULT 0,
    noted_at    BIGINT NOT NULL DEFAULT 0,
    thanked_at  BIGINT NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (shop, target_kind, target_id, instance, order_id, email)
);
CREATE INDEX attendance_order ON attendance (shop, order_id);

CREATE TABLE unmatched_participants (
    shop        TEXT    NOT NULL DEFAULT 'default',
    target_kind TEXT    NOT NULL,
    target_id   BIGINT NOT NULL,
    instance    TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    minutes     BIGINT NOT NULL,
    PRIMARY KEY (shop, target_kind, target_id, instance, name, email)
);

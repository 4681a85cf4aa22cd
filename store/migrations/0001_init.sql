-- Times are Unix milliseconds (UTC).

-- Every correctly signed webhook delivery, kept as received.
-- WooCommerce's Delivery-ID repeats within one second, so the body digest is
-- part of the key: an exact repeat is one row, a different body a new one.
CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY,
    delivery_id TEXT    NOT NULL,
    body_sha256 TEXT    NOT NULL,
    webhook_id  TEXT    NOT NULL DEFAULT '',
    topic       TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL DEFAULT '',
    order_id    INTEGER,
    body        BLOB    NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (delivery_id, body_sha256)
);

-- The queue. A job is one delivery to act on. Jobs of one order run one at
-- a time (order_id); a running job holds a lease that a crash lets expire.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    delivery    INTEGER NOT NULL REFERENCES deliveries (id),
    order_id    INTEGER,
    state       TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    run_at      INTEGER NOT NULL,
    lease_until INTEGER,
    last_error  TEXT    NOT NULL DEFAULT '',
    result      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, run_at);
CREATE INDEX jobs_order ON jobs (order_id, state);

-- Product (and variation; 0 = any) to Zoom meeting or webinar.
-- source 'config' rows follow config.yaml; 'cli' rows are the admin's own.
CREATE TABLE mappings (
    id           INTEGER PRIMARY KEY,
    product_id   INTEGER NOT NULL,
    variation_id INTEGER NOT NULL DEFAULT 0,
    target_kind  TEXT    NOT NULL CHECK (target_kind IN ('meeting', 'webinar')),
    target_id    INTEGER NOT NULL,
    source       TEXT    NOT NULL CHECK (source IN ('config', 'cli')),
    created_at   INTEGER NOT NULL,
    UNIQUE (product_id, variation_id, target_kind, target_id)
);

-- Meeting and webinar details for the write-back, cached.
CREATE TABLE targets (
    target_kind TEXT    NOT NULL,
    target_id   INTEGER NOT NULL,
    topic       TEXT    NOT NULL DEFAULT '',
    start_time  INTEGER NOT NULL DEFAULT 0,
    duration    INTEGER NOT NULL DEFAULT 0,
    timezone    TEXT    NOT NULL DEFAULT '',
    passcode    TEXT    NOT NULL DEFAULT '',
    join_url    TEXT    NOT NULL DEFAULT '',
    fetched_at  INTEGER NOT NULL,
    PRIMARY KEY (target_kind, target_id)
);

-- What Zoom holds: one registrant per email per meeting or webinar.
CREATE TABLE seats (
    target_kind   TEXT    NOT NULL,
    target_id     INTEGER NOT NULL,
    email         TEXT    NOT NULL,
    registrant_id TEXT    NOT NULL,
    join_url      TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL CHECK (status IN ('approved', 'pending', 'denied')),
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (target_kind, target_id, email)
);

-- Each order's claim on a seat.
CREATE TABLE registrations (
    order_id     INTEGER NOT NULL,
    line_item_id INTEGER NOT NULL,
    target_kind  TEXT    NOT NULL,
    target_id    INTEGER NOT NULL,
    email        TEXT    NOT NULL,
    first_name   TEXT    NOT NULL DEFAULT '',
    last_name    TEXT    NOT NULL DEFAULT '',
    state        TEXT    NOT NULL CHECK (state IN ('active', 'cancelled', 'failed')),
    error        TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (order_id, target_kind, target_id, email)
);
CREATE INDEX registrations_seat ON registrations (target_kind, target_id, email, state);

-- The newest view of each order that was acted on, and what was written back.
CREATE TABLE orders (
    order_id    INTEGER PRIMARY KEY,
    status      TEXT    NOT NULL,
    modified    INTEGER NOT NULL,
    note_digest TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL
);

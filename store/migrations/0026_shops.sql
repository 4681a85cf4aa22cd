-- Several shops in one database: every row of a shop's deliveries, jobs,
-- orders, registrations, mappings, made meetings and audit log names its
-- shop; rows written before shops are the shop 'default'. WooCommerce's
-- order and product ids repeat across shops, so they are unique only with
-- the shop: the tables keyed by them are made again with the shop in the
-- key (SQLite cannot change a key in place). What is Zoom's (meetings'
-- details, seats, the pace, hosts' ledger) has no shop.
ALTER TABLE deliveries ADD COLUMN shop TEXT NOT NULL DEFAULT 'default';
ALTER TABLE jobs ADD COLUMN shop TEXT NOT NULL DEFAULT 'default';
ALTER TABLE calls ADD COLUMN shop TEXT NOT NULL DEFAULT 'default';
DROP INDEX jobs_ready;
CREATE INDEX jobs_ready ON jobs (shop, state, run_at);
DROP INDEX jobs_resource;
CREATE INDEX jobs_resource ON jobs (shop, resource, state) WHERE resource != '';
DROP INDEX calls_order;
CREATE INDEX calls_order ON calls (shop, order_id) WHERE order_id != 0;

CREATE TABLE registrations_new (
    shop           TEXT    NOT NULL DEFAULT 'default',
    order_id       INTEGER NOT NULL,
    line_item_id   INTEGER NOT NULL,
    target_kind    TEXT    NOT NULL,
    target_id      INTEGER NOT NULL,
    email          TEXT    NOT NULL,
    first_name     TEXT    NOT NULL DEFAULT '',
    last_name      TEXT    NOT NULL DEFAULT '',
    state          TEXT    NOT NULL CHECK (state IN ('active', 'cancelled', 'failed')),
    error          TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    product_id     INTEGER NOT NULL DEFAULT 0,
    calendar_token TEXT    NOT NULL DEFAULT '',
    email_typed    TEXT    NOT NULL DEFAULT '',
    ended          TEXT    NOT NULL DEFAULT ''
        CHECK (ended IN ('', 'order_status', 'refund', 'change', 'withdrawn', 'zoom')),
    ended_by       TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (shop, order_id, target_kind, target_id, email)
);
INSERT INTO registrations_new (order_id, line_item_id, target_kind, target_id, email, first_name, last_name, state, error,
        created_at, updated_at, product_id, calendar_token, email_typed, ended, ended_by)
    SELECT order_id, line_item_id, target_kind, target_id, email, first_name, last_name, state, error,
        created_at, updated_at, product_id, calendar_token, email_typed, ended, ended_by FROM registrations;
DROP TABLE registrations;
ALTER TABLE registrations_new RENAME TO registrations;
CREATE INDEX registrations_seat ON registrations (target_kind, target_id, email, state);
CREATE INDEX registrations_product ON registrations (shop, product_id);
CREATE UNIQUE INDEX registrations_calendar ON registrations (calendar_token) WHERE calendar_token != '';

CREATE TABLE orders_new (
    shop        TEXT    NOT NULL DEFAULT 'default',
    order_id    INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    modified    INTEGER NOT NULL,
    note_digest TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL,
    meta_digest TEXT    NOT NULL DEFAULT '',
    meta_basis  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (shop, order_id)
);
INSERT INTO orders_new (order_id, status, modified, note_digest, updated_at, meta_digest, meta_basis)
    SELECT order_id, status, modified, note_digest, updated_at, meta_digest, meta_basis FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;

CREATE TABLE mappings_new (
    id             INTEGER PRIMARY KEY,
    shop           TEXT    NOT NULL DEFAULT 'default',
    product_id     INTEGER NOT NULL,
    variation_id   INTEGER NOT NULL DEFAULT 0,
    day            INTEGER NOT NULL DEFAULT 0,
    slot           TEXT    NOT NULL DEFAULT '',
    target_kind    TEXT    NOT NULL CHECK (target_kind IN ('meeting', 'webinar', 'link')),
    target_id      INTEGER NOT NULL,
    occurrence_ids TEXT    NOT NULL DEFAULT '',
    source         TEXT    NOT NULL CHECK (source IN ('config', 'cli')),
    created_at     INTEGER NOT NULL,
    zoom_account   TEXT    NOT NULL DEFAULT '',
    UNIQUE (shop, product_id, variation_id, day, slot, target_kind, target_id, occurrence_ids)
);
INSERT INTO mappings_new (id, product_id, variation_id, day, slot, target_kind, target_id, occurrence_ids, source, created_at, zoom_account)
    SELECT id, product_id, variation_id, day, slot, target_kind, target_id, occurrence_ids, source, created_at, zoom_account FROM mappings;
DROP TABLE mappings;
ALTER TABLE mappings_new RENAME TO mappings;

CREATE TABLE made_meetings_new (
    shop           TEXT    NOT NULL DEFAULT 'default',
    product_id     INTEGER NOT NULL,
    day            INTEGER NOT NULL DEFAULT 0,
    target_kind    TEXT    NOT NULL CHECK (target_kind IN ('meeting', 'webinar')),
    host           TEXT    NOT NULL,
    ref            TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('creating', 'made', 'deleting', 'deleted')),
    target_id      INTEGER NOT NULL DEFAULT 0,
    digest         TEXT    NOT NULL DEFAULT '',
    orders_pending INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (shop, product_id, day)
);
INSERT INTO made_meetings_new (product_id, day, target_kind, host, ref, state, target_id, digest, orders_pending, updated_at)
    SELECT product_id, day, target_kind, host, ref, state, target_id, digest, orders_pending, updated_at FROM made_meetings;
DROP TABLE made_meetings;
ALTER TABLE made_meetings_new RENAME TO made_meetings;
CREATE INDEX made_meetings_target ON made_meetings (target_kind, target_id);

CREATE TABLE product_meetings_new (
    shop       TEXT    NOT NULL DEFAULT 'default',
    product_id INTEGER NOT NULL,
    state      TEXT    NOT NULL CHECK (state IN ('ready', 'no_date', 'gone')),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (shop, product_id)
);
INSERT INTO product_meetings_new (product_id, state, updated_at) SELECT product_id, state, updated_at FROM product_meetings;
DROP TABLE product_meetings;
ALTER TABLE product_meetings_new RENAME TO product_meetings;

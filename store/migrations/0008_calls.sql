-- The audit log: every outbound call to Zoom and WooCommerce, kept for
-- audit.keep (pruned by time). Written in batches, off the work's path.
CREATE TABLE calls (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    service     TEXT    NOT NULL,
    operation   TEXT    NOT NULL,
    method      TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    code        TEXT    NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL,
    job_id      INTEGER NOT NULL DEFAULT 0,
    order_id    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX calls_at ON calls (at);
CREATE INDEX calls_order ON calls (order_id) WHERE order_id != 0;

-- Events held elsewhere (a link instead of a Zoom meeting): mappings take
-- the kind 'link'. SQLite cannot change a CHECK in place, so the table is
-- rebuilt.
CREATE TABLE mappings_new (
    id             INTEGER PRIMARY KEY,
    product_id     INTEGER NOT NULL,
    variation_id   INTEGER NOT NULL DEFAULT 0,
    day            INTEGER NOT NULL DEFAULT 0,
    slot           TEXT    NOT NULL DEFAULT '',
    target_kind    TEXT    NOT NULL CHECK (target_kind IN ('meeting', 'webinar', 'link')),
    target_id      INTEGER NOT NULL,
    occurrence_ids TEXT    NOT NULL DEFAULT '',
    source         TEXT    NOT NULL CHECK (source IN ('config', 'cli')),
    created_at     INTEGER NOT NULL,
    UNIQUE (product_id, variation_id, day, slot, target_kind, target_id, occurrence_ids)
);
INSERT INTO mappings_new SELECT id, product_id, variation_id, day, slot, target_kind, target_id, occurrence_ids, source, created_at FROM mappings;
DROP TABLE mappings;
ALTER TABLE mappings_new RENAME TO mappings;

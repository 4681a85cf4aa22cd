-- What the last product job found of a product whose meetings woozoom makes:
-- they exist (ready), the product gives no date to make them for, or the
-- product is gone (trashed or deleted). An order job reads it instead of
-- making the meetings itself: with no row yet, it queues the product's job
-- and waits for it.
CREATE TABLE product_meetings (
    product_id INTEGER PRIMARY KEY,
    state      TEXT    NOT NULL CHECK (state IN ('ready', 'no_date', 'gone')),
    updated_at INTEGER NOT NULL
);

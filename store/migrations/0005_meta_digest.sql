-- What woozoom last wrote to each order's meta, so a write-back also
-- corrects a snapshot older than woozoom's own last write.
ALTER TABLE orders ADD COLUMN meta_digest TEXT NOT NULL DEFAULT '';

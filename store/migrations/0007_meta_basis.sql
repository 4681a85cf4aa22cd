-- The modification time of the order view woozoom's last meta write was
-- computed from: a delivery of that view (or an older one) finds the write
-- already done, whichever topics delivered it.
ALTER TABLE orders ADD COLUMN meta_basis INTEGER NOT NULL DEFAULT 0;

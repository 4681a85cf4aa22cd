-- Registrations remember the product they came from, for export by product.
ALTER TABLE registrations ADD COLUMN product_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX registrations_product ON registrations (product_id);

-- Several shops in one database: every row of a shop's deliveries, jobs,
-- orders, registrations, mappings, made meetings and audit log names its
-- shop; rows written before shops are the shop 'default'. WooCommerce's
-- order and product ids repeat across shops, so they are unique only with
-- the shop. What is Zoom's (meetings' details, seats, the pace, hosts'
-- ledger) has no shop.
ALTER TABLE deliveries ADD COLUMN shop TEXT NOT NULL DEFAULT 'default';
ALTER TABLE jobs ADD COLUMN shop TEXT NOT NULL DEFAULT 'default';
ALTER TABLE calls ADD COLUMN shop TEXT NOT NULL DEFAULT 'default';
ALTER TABLE registrations ADD COLUMN shop TEXT NOT NULL DEFAULT 'default';
ALTER TABLE orders ADD COLUMN shop TEXT NOT NULL DEFAULT 'default';
ALTER TABLE mappings ADD COLUMN shop TEXT NOT NULL DEFAULT 'default';
ALTER TABLE made_meetings ADD COLUMN shop TEXT NOT NULL DEFAULT 'default';
ALTER TABLE product_meetings ADD COLUMN shop TEXT NOT NULL DEFAULT 'default';

DROP INDEX jobs_ready;
CREATE INDEX jobs_ready ON jobs (shop, state, run_at);
DROP INDEX jobs_resource;
CREATE INDEX jobs_resource ON jobs (shop, resource, state) WHERE resource != '';
DROP INDEX calls_order;
CREATE INDEX calls_order ON calls (shop, order_id) WHERE order_id != 0;
DROP INDEX registrations_product;
CREATE INDEX registrations_product ON registrations (shop, product_id);

ALTER TABLE registrations DROP CONSTRAINT registrations_pkey;
ALTER TABLE registrations ADD PRIMARY KEY (shop, order_id, target_kind, target_id, email);
ALTER TABLE orders DROP CONSTRAINT orders_pkey;
ALTER TABLE orders ADD PRIMARY KEY (shop, order_id);
ALTER TABLE made_meetings DROP CONSTRAINT made_meetings_pkey;
ALTER TABLE made_meetings ADD PRIMARY KEY (shop, product_id, day);
ALTER TABLE product_meetings DROP CONSTRAINT product_meetings_pkey;
ALTER TABLE product_meetings ADD PRIMARY KEY (shop, product_id);
-- The unique key of mappings was named by the server (a truncated list of
-- its columns): found by what it is.
DO $$
DECLARE c text;
BEGIN
    SELECT conname INTO c FROM pg_constraint WHERE conrelid = 'mappings'::regclass AND contype = 'u';
    EXECUTE format('ALTER TABLE mappings DROP CONSTRAINT %I', c);
END $$;
ALTER TABLE mappings ADD UNIQUE (shop, product_id, variation_id, day, slot, target_kind, target_id, occurrence_ids);

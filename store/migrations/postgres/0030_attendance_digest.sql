-- What woozoom last wrote to an order's _woozoom_attendance: the order's
-- own job writes it only when it changed, whatever shape the shop gives
-- the value back in (no write, so no echo, when nothing changed).
ALTER TABLE orders ADD COLUMN attendance_digest TEXT NOT NULL DEFAULT '';

-- Why a registration ended, recorded with the change that ended it, so the
-- customer is told what happened (the event withdrawn, the organiser in
-- Zoom, the order cancelled, a refund) instead of a guess. A registration
-- a Zoom host cancelled was known only by the start of its error text.
ALTER TABLE registrations ADD COLUMN ended TEXT NOT NULL DEFAULT ''
    CHECK (ended IN ('', 'order_status', 'refund', 'change', 'withdrawn', 'zoom'));
ALTER TABLE registrations ADD COLUMN ended_by TEXT NOT NULL DEFAULT '';

UPDATE registrations SET ended = 'zoom', ended_by = substr(error, length('cancelled in Zoom by ') + 1)
    WHERE state = 'failed' AND substr(error, 1, length('cancelled in Zoom by ')) = 'cancelled in Zoom by ';
UPDATE registrations SET ended = 'withdrawn'
    WHERE state = 'cancelled' AND error LIKE '% was deleted with product %';

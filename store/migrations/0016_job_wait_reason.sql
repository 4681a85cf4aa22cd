-- Why a queued job waits, as a column: it was the start of its last error
-- ("waits for a person: ", "waits for the service: ") or a word in it
-- ("daily"), matched in SQL. The old text is read once here.
ALTER TABLE jobs ADD COLUMN wait_reason TEXT NOT NULL DEFAULT ''
    CHECK (wait_reason IN ('', 'person', 'service', 'daily_limit'));

UPDATE jobs SET wait_reason = 'person', last_error = substr(last_error, length('waits for a person: ') + 1)
    WHERE substr(last_error, 1, length('waits for a person: ')) = 'waits for a person: ';
UPDATE jobs SET wait_reason = 'service', last_error = substr(last_error, length('waits for the service: ') + 1)
    WHERE substr(last_error, 1, length('waits for the service: ')) = 'waits for the service: ';
UPDATE jobs SET wait_reason = 'daily_limit'
    WHERE state = 'queued' AND wait_reason = '' AND lower(last_error) LIKE '%daily%';
-- Versions before jobs waited for a person parked them for good: they wait
-- now, and the next start takes them up.
UPDATE jobs SET state = 'queued', wait_reason = 'person', attempts = 0
    WHERE state = 'failed' AND (instr(last_error, 'woocommerce answered 401') > 0 OR instr(last_error, 'Zoom refused the app credentials') > 0);

-- The occurrences of a recurring meeting (starts in Unix ms, comma-separated),
-- for calendar files.
ALTER TABLE targets ADD COLUMN occurrences TEXT NOT NULL DEFAULT '';

-- The email as the attendee typed it (when it differs in case), to show it
-- that way; the normalised email stays the key.
ALTER TABLE registrations ADD COLUMN email_typed TEXT NOT NULL DEFAULT '';

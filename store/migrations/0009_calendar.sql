-- Calendar files: each registration gets an unguessable token for its
-- /calendar/{token}.ics link, and each meeting a SEQUENCE that goes up when
-- it moves, so calendar apps update the event.
ALTER TABLE registrations ADD COLUMN calendar_token TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX registrations_calendar ON registrations (calendar_token) WHERE calendar_token != '';
ALTER TABLE targets ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;

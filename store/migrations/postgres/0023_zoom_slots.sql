-- Processes that call Zoom for one account share its pace: send slots are
-- handed out in turn from next_at (a GCRA schedule), at the account's rate,
-- and what one learns of the account's limit holds for all.
CREATE TABLE zoom_slots (
    key        TEXT             PRIMARY KEY, -- account and rate-limit category
    next_at    DOUBLE PRECISION NOT NULL,    -- the next free slot, Unix ms
    rate       DOUBLE PRECISION NOT NULL,    -- calls per second, for the account
    rate_limit DOUBLE PRECISION NOT NULL DEFAULT 0, -- the limit learned of Zoom; 0: not yet
    changed_at BIGINT           NOT NULL
);

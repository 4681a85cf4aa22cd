-- The Zoom account a mapped meeting belongs to (zoom_accounts: in
-- config.yaml); empty is the default account, as before accounts.
ALTER TABLE mappings ADD COLUMN zoom_account TEXT NOT NULL DEFAULT '';

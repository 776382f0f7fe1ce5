-- Security review (issue 14).
-- A monitor's checks run with its owner's access: whoever created it or last changed it.
-- Monitors made before this migration belong to their creator.
ALTER TABLE monitors ADD COLUMN owner TEXT NOT NULL DEFAULT '';
UPDATE monitors SET owner = created_by;

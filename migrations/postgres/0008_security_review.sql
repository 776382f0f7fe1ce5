-- Security review (issue 14).
-- A monitor's checks run with its owner's access: whoever created it or last changed it.
-- Monitors made before this migration belong to their creator.
ALTER TABLE monitors ADD COLUMN owner TEXT NOT NULL DEFAULT '';
UPDATE monitors SET owner = created_by;

-- A webhook receives alerts only of monitors whose data its creator was cleared for when
-- creating it. Webhooks made before this migration keep receiving everything.
ALTER TABLE webhooks ADD COLUMN clearance TEXT NOT NULL DEFAULT 'restricted';
-- The clearance a delivery's payload needs (the most sensitive data of its monitor): the
-- delivery log shows it only to callers cleared for it. Older deliveries need everything.
ALTER TABLE webhook_deliveries ADD COLUMN sensitivity TEXT NOT NULL DEFAULT 'restricted';

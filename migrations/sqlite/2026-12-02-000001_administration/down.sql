DROP INDEX audit_log_subject;
DELETE FROM audit_log WHERE event IN ('staff_invited', 'account_changed', 'account_disabled', 'account_enabled', '2fa_reset', 'config_changed');
ALTER TABLE users DROP COLUMN disabled_at;
ALTER TABLE agencies DROP COLUMN office_hours;
ALTER TABLE services DROP COLUMN published;

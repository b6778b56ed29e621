DROP INDEX audit_log_subject;
DELETE FROM audit_log WHERE event IN ('staff_invited', 'account_changed', 'account_disabled', 'account_enabled', '2fa_reset', 'config_changed');
ALTER TABLE audit_log DROP CONSTRAINT audit_log_event_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_event_check CHECK (event IN ('register', 'register_duplicate', 'email_verified', 'login', 'login_password_ok', 'login_failed', 'login_refused_locked', 'account_locked', 'logout', 'logout_everywhere', 'password_reset_requested', 'password_reset', 'profile_updated', 'email_change_requested', 'email_changed', 'email_change_reverted', 'api_token_created', 'api_token_revoked', '2fa_enrolled', '2fa_failed', '2fa_recovery_used', 'admin_created', 'dossier_action'));
ALTER TABLE users DROP COLUMN disabled_at;
ALTER TABLE agencies DROP COLUMN office_hours;
ALTER TABLE services DROP COLUMN published;

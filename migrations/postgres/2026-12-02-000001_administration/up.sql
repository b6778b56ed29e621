-- Administration: an account can be disabled (its sessions end, it cannot log in, its API
-- tokens stop working) and every administrative change leaves an audit entry.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMP;

-- An office may keep its own hours (`07:00-11:30, 13:30-17:00`); NULL: the portal's default.
ALTER TABLE agencies ADD COLUMN office_hours TEXT;

-- An administrator publishes or unpublishes a service: unpublished, it leaves the catalogue,
-- search and API and takes no new applications; its dossiers go on. Kept across catalogue
-- imports like the online level set by hand.
ALTER TABLE services ADD COLUMN published BOOLEAN NOT NULL DEFAULT TRUE;

ALTER TABLE audit_log DROP CONSTRAINT audit_log_event_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_event_check CHECK (event IN ('register', 'register_duplicate', 'email_verified', 'login', 'login_password_ok', 'login_failed', 'login_refused_locked', 'account_locked', 'logout', 'logout_everywhere', 'password_reset_requested', 'password_reset', 'profile_updated', 'email_change_requested', 'email_changed', 'email_change_reverted', 'api_token_created', 'api_token_revoked', '2fa_enrolled', '2fa_failed', '2fa_recovery_used', 'admin_created', 'dossier_action', 'staff_invited', 'account_changed', 'account_disabled', 'account_enabled', '2fa_reset', 'config_changed'));
CREATE INDEX audit_log_subject ON audit_log(subject);

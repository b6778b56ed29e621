-- A dossier keeps the form it was filed under. Most dossiers share a handful of form versions,
-- so the definition is stored once per distinct content (by its SHA-256) and a dossier holds
-- `sha256:<hex>` instead of a copy (dossiers filed before keep their inline copy).
CREATE TABLE form_snapshots (
    sha256 TEXT PRIMARY KEY NOT NULL,
    definition TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Every move and hand-over of a dossier also leaves an audit entry (who, which dossier, what).
ALTER TABLE audit_log DROP CONSTRAINT audit_log_event_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_event_check CHECK (event IN ('register', 'register_duplicate', 'email_verified', 'login', 'login_password_ok', 'login_failed', 'login_refused_locked', 'account_locked', 'logout', 'logout_everywhere', 'password_reset_requested', 'password_reset', 'profile_updated', 'email_change_requested', 'email_changed', 'email_change_reverted', 'api_token_created', 'api_token_revoked', '2fa_enrolled', '2fa_failed', '2fa_recovery_used', 'admin_created', 'dossier_action'));

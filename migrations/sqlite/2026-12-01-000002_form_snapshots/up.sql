-- A dossier keeps the form it was filed under. Most dossiers share a handful of form versions,
-- so the definition is stored once per distinct content (by its SHA-256) and a dossier holds
-- `sha256:<hex>` instead of a copy (dossiers filed before keep their inline copy).
CREATE TABLE form_snapshots (
    sha256 TEXT PRIMARY KEY NOT NULL,
    definition TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Every move and hand-over of a dossier also leaves an audit entry (who, which dossier, what).
CREATE TABLE audit_log_new (
    id INTEGER PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    event TEXT NOT NULL CHECK (event IN ('register', 'register_duplicate', 'email_verified', 'login', 'login_password_ok', 'login_failed', 'login_refused_locked', 'account_locked', 'logout', 'logout_everywhere', 'password_reset_requested', 'password_reset', 'profile_updated', 'email_change_requested', 'email_changed', 'email_change_reverted', 'api_token_created', 'api_token_revoked', '2fa_enrolled', '2fa_failed', '2fa_recovery_used', 'admin_created', 'dossier_action')),
    subject TEXT NOT NULL,
    ip TEXT NOT NULL,
    detail TEXT NOT NULL
);
INSERT INTO audit_log_new SELECT id, at, actor_id, event, subject, ip, detail FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_event ON audit_log(event);

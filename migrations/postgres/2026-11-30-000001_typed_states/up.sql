-- States are closed sets: CHECK constraints on roles, token purposes, outbox states and audit
-- events (the application parses them into enums and refuses unknown values too). Failed
-- logins move from the users row to login_failures, which also counts identifiers that have no
-- account, so known and unknown ones lock alike. API tokens get an opaque public id.
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('citizen', 'officer', 'lead', 'admin'));
ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN locked_until;
ALTER TABLE account_tokens RENAME COLUMN new_email TO email;
ALTER TABLE account_tokens ADD CONSTRAINT account_tokens_purpose_check
    CHECK (purpose IN ('verify_email', 'reset_password', 'set_password', 'revert_email'));
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sent', 'failed'));
ALTER TABLE audit_log ADD CONSTRAINT audit_log_event_check CHECK (event IN ('register', 'register_duplicate', 'email_verified', 'login', 'login_password_ok', 'login_failed', 'login_refused_locked', 'account_locked', 'logout', 'logout_everywhere', 'password_reset_requested', 'password_reset', 'profile_updated', 'email_change_requested', 'email_changed', 'email_change_reverted', 'api_token_created', 'api_token_revoked', '2fa_enrolled', '2fa_failed', '2fa_recovery_used', 'admin_created'));

ALTER TABLE api_tokens ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
UPDATE api_tokens SET public_id = md5(random()::text || token_hash);
ALTER TABLE api_tokens ALTER COLUMN public_id DROP DEFAULT;
CREATE UNIQUE INDEX api_tokens_public_id ON api_tokens(public_id);

CREATE TABLE login_failures (
    subject TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    last_failure_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);

-- States are closed sets: CHECK constraints on roles, token purposes, outbox states and audit
-- events (the application parses them into enums and refuses unknown values too). Failed
-- logins move from the users row to login_failures, which also counts identifiers that have no
-- account, so known and unknown ones lock alike. API tokens get an opaque public id.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE users_new (
    id INTEGER PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    email_verified_at TIMESTAMP,
    full_name TEXT NOT NULL,
    phone TEXT NOT NULL,
    cccd TEXT UNIQUE,
    date_of_birth DATE,
    province_code TEXT REFERENCES provinces(code),
    ward_code TEXT REFERENCES wards(code),
    address TEXT NOT NULL,
    password_hash TEXT,
    role TEXT NOT NULL CHECK (role IN ('citizen', 'officer', 'lead', 'admin')),
    totp_secret TEXT,
    totp_enabled_at TIMESTAMP,
    totp_last_step BIGINT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO users_new (id, email, email_verified_at, full_name, phone, cccd, date_of_birth,
    province_code, ward_code, address, password_hash, role, totp_secret, totp_enabled_at,
    totp_last_step, created_at, updated_at)
SELECT id, email, email_verified_at, full_name, phone, cccd, date_of_birth, province_code,
    ward_code, address, password_hash, role, totp_secret, totp_enabled_at, totp_last_step,
    created_at, updated_at
FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

CREATE TABLE account_tokens_new (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'set_password', 'revert_email')),
    email TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
INSERT INTO account_tokens_new (token_hash, user_id, purpose, email, created_at, expires_at, used_at)
SELECT token_hash, user_id, purpose, new_email, created_at, expires_at, used_at FROM account_tokens;
DROP TABLE account_tokens;
ALTER TABLE account_tokens_new RENAME TO account_tokens;
CREATE INDEX account_tokens_user_id ON account_tokens(user_id);

CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
INSERT INTO outbox_new SELECT id, to_address, subject, text_body, html_body, status, attempts,
    next_attempt_at, locked_until, last_error, created_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

CREATE TABLE audit_log_new (
    id INTEGER PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    event TEXT NOT NULL CHECK (event IN ('register', 'register_duplicate', 'email_verified', 'login', 'login_password_ok', 'login_failed', 'login_refused_locked', 'account_locked', 'logout', 'logout_everywhere', 'password_reset_requested', 'password_reset', 'profile_updated', 'email_change_requested', 'email_changed', 'email_change_reverted', 'api_token_created', 'api_token_revoked', '2fa_enrolled', '2fa_failed', '2fa_recovery_used', 'admin_created')),
    subject TEXT NOT NULL,
    ip TEXT NOT NULL,
    detail TEXT NOT NULL
);
INSERT INTO audit_log_new SELECT id, at, actor_id, event, subject, ip, detail FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_event ON audit_log(event);

ALTER TABLE api_tokens ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
UPDATE api_tokens SET public_id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX api_tokens_public_id ON api_tokens(public_id);

CREATE TABLE login_failures (
    subject TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    last_failure_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);

COMMIT;
PRAGMA foreign_keys = ON;

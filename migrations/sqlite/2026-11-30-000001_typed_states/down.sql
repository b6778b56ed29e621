PRAGMA foreign_keys = OFF;
BEGIN;
DROP TABLE login_failures;
DROP INDEX api_tokens_public_id;
ALTER TABLE api_tokens DROP COLUMN public_id;

CREATE TABLE users_old (
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
    role TEXT NOT NULL,
    totp_secret TEXT,
    totp_enabled_at TIMESTAMP,
    totp_last_step BIGINT,
    failed_logins INTEGER NOT NULL,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO users_old SELECT id, email, email_verified_at, full_name, phone, cccd,
    date_of_birth, province_code, ward_code, address, password_hash, role, totp_secret,
    totp_enabled_at, totp_last_step, 0, NULL, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;

CREATE TABLE account_tokens_old (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    new_email TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
INSERT INTO account_tokens_old SELECT token_hash, user_id, purpose, email, created_at,
    expires_at, used_at FROM account_tokens WHERE purpose <> 'revert_email';
DROP TABLE account_tokens;
ALTER TABLE account_tokens_old RENAME TO account_tokens;
CREATE INDEX account_tokens_user_id ON account_tokens(user_id);

CREATE TABLE outbox_old (
    id INTEGER PRIMARY KEY NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
INSERT INTO outbox_old SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

CREATE TABLE audit_log_old (
    id INTEGER PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    event TEXT NOT NULL,
    subject TEXT NOT NULL,
    ip TEXT NOT NULL,
    detail TEXT NOT NULL
);
INSERT INTO audit_log_old SELECT * FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_old RENAME TO audit_log;
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_event ON audit_log(event);
COMMIT;
PRAGMA foreign_keys = ON;

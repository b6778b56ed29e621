DROP TABLE login_failures;
DROP INDEX api_tokens_public_id;
ALTER TABLE api_tokens DROP COLUMN public_id;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_event_check;
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
DELETE FROM account_tokens WHERE purpose = 'revert_email';
ALTER TABLE account_tokens DROP CONSTRAINT account_tokens_purpose_check;
ALTER TABLE account_tokens RENAME COLUMN email TO new_email;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN locked_until TIMESTAMP;
ALTER TABLE users DROP CONSTRAINT users_role_check;

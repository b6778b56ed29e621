-- Signed webhooks for offices' back-office systems. Every status change of an office's dossier
-- queues one delivery per active webhook of that office, in the transaction of the change (an
-- outbox: nothing is lost when the receiver is down). The delivery job sends, per webhook and
-- dossier, only the oldest undelivered event, so a receiver sees each dossier's events in order;
-- a claim (lease) makes one worker send it; failures are retried with backoff.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY NOT NULL,
    agency_id BIGINT NOT NULL REFERENCES agencies(id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_agency ON webhooks(agency_id);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY NOT NULL,
    webhook_id BIGINT NOT NULL REFERENCES webhooks(id),
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    event_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries(webhook_id, dossier_id, status, id);

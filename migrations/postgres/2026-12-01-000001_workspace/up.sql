-- The agency workspace: queues, assignment, the paused clock, the one apology, consultations,
-- sealed results and ratings.

-- Automatic assignment of new dossiers to the least-loaded officer (a per-office setting).
ALTER TABLE agencies ADD COLUMN auto_assign BOOLEAN NOT NULL DEFAULT FALSE;

-- The queue tab a dossier is in, derived from its status in the same update (domain::status
-- Stage): 1 new, 2 in progress, 3 waiting for the citizen, 4 withdrawal asked, 5 finished. One
-- equality in the queue's index keeps every tab in index order at millions of rows.
ALTER TABLE dossiers ADD COLUMN stage INTEGER NOT NULL DEFAULT 1 CHECK (stage BETWEEN 1 AND 5);
ALTER TABLE dossiers ADD COLUMN assigned_to BIGINT REFERENCES users(id);
-- The clock's other facts (supplement requests, pauses, the one apology, the finish) are read
-- from the timeline, which records every move.
-- The applicant's name folded (no accents, lower case) for the queue's search.
ALTER TABLE dossiers ADD COLUMN applicant_key TEXT NOT NULL DEFAULT '';

CREATE INDEX dossiers_queue_due ON dossiers(agency_id, stage, due_at, id);
CREATE INDEX dossiers_queue_submitted ON dossiers(agency_id, stage, submitted_at, id);
CREATE INDEX dossiers_assigned ON dossiers(assigned_to, stage, due_at, id);
CREATE INDEX dossiers_cccd ON dossiers(applicant_cccd);

-- Another office's opinion, asked while the dossier stays with its office.
CREATE TABLE consultations (
    id BIGSERIAL PRIMARY KEY,
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id) ON DELETE CASCADE,
    from_agency_id BIGINT NOT NULL REFERENCES agencies(id),
    to_agency_id BIGINT NOT NULL REFERENCES agencies(id),
    question TEXT NOT NULL,
    asked_by BIGINT REFERENCES users(id),
    asked_at TIMESTAMP NOT NULL,
    answer TEXT,
    answered_by BIGINT REFERENCES users(id),
    answered_at TIMESTAMP
);
CREATE INDEX consultations_to ON consultations(to_agency_id, answered_at, id);
CREATE INDEX consultations_dossier ON consultations(dossier_id);

-- Each office's Ed25519 signing key; the secret half encrypted with the portal's seal key.
CREATE TABLE office_keys (
    agency_id BIGINT PRIMARY KEY NOT NULL REFERENCES agencies(id),
    public_key TEXT NOT NULL,
    sealed_secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- A dossier's result: the file, its digest signed with the issuing office's key, and the short
-- code anyone can check at /verify.
CREATE TABLE results (
    id BIGSERIAL PRIMARY KEY,
    dossier_id BIGINT NOT NULL UNIQUE REFERENCES dossiers(id) ON DELETE CASCADE,
    agency_id BIGINT NOT NULL REFERENCES agencies(id),
    verify_code TEXT NOT NULL UNIQUE,
    file_name TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    signature TEXT NOT NULL,
    public_key TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    generated BOOLEAN NOT NULL,
    decision TEXT NOT NULL,
    issued_by BIGINT REFERENCES users(id),
    issued_at TIMESTAMP NOT NULL,
    downloaded_at TIMESTAMP
);

-- The citizen's rating after delivery: the nine indicators, 2/1/0 each (domain.md §6).
CREATE TABLE ratings (
    dossier_id BIGINT PRIMARY KEY NOT NULL REFERENCES dossiers(id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users(id),
    scores TEXT NOT NULL,
    total INTEGER NOT NULL,
    comment TEXT NOT NULL,
    rated_at TIMESTAMP NOT NULL
);

-- Applications: the agency directory (office identifiers, kinds, contact), routing rules, forms,
-- drafts, dossiers with their timeline and daily code sequences, attachments and payments.
ALTER TABLE agencies ADD COLUMN office_id TEXT NOT NULL DEFAULT '';
ALTER TABLE agencies ADD COLUMN kind TEXT NOT NULL DEFAULT 'ministry'
    CHECK (kind IN ('ministry', 'province_committee', 'department', 'ward_committee', 'ward_police'));
ALTER TABLE agencies ADD COLUMN department_key TEXT;
ALTER TABLE agencies ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE agencies ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE agencies ADD COLUMN email TEXT NOT NULL DEFAULT '';
UPDATE agencies SET office_id = code;
UPDATE agencies SET kind = 'ward_committee' WHERE tier = 'commune';
UPDATE agencies SET kind = 'department' WHERE tier = 'province';

CREATE UNIQUE INDEX agencies_office_id ON agencies(office_id);
CREATE INDEX agencies_place ON agencies(kind, province_code, ward_code);

-- Routing rules (data an administrator edits): which kind of office handles a service filed at an
-- implementing level, for a ministry, a field or one service; the most specific rule wins.
CREATE TABLE routing_rules (
    id INTEGER PRIMARY KEY NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('ministry', 'province', 'commune')),
    ministry_id BIGINT REFERENCES agencies(id),
    field_id BIGINT REFERENCES fields(id),
    service_code TEXT,
    target TEXT NOT NULL CHECK (target IN ('ministry', 'province_committee', 'department', 'ward_committee', 'ward_police')),
    department_key TEXT,
    note TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((target = 'department') = (department_key IS NOT NULL))
);
CREATE INDEX routing_rules_level ON routing_rules(level);

-- Application forms, versioned per service; a dossier keeps the definition it was filed under.
CREATE TABLE forms (
    id INTEGER PRIMARY KEY NOT NULL,
    service_code TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('official', 'admin')),
    published BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (service_code, version)
);

-- A citizen's application before submission: saved as they go, expires after 30 days.
CREATE TABLE drafts (
    id INTEGER PRIMARY KEY NOT NULL,
    public_id TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL REFERENCES services(id),
    level TEXT NOT NULL CHECK (level IN ('ministry', 'province', 'commune')),
    province_code TEXT REFERENCES provinces(code),
    ward_code TEXT REFERENCES wards(code),
    agency_id BIGINT NOT NULL REFERENCES agencies(id),
    rule_id BIGINT REFERENCES routing_rules(id) ON DELETE SET NULL,
    form_version INTEGER NOT NULL,
    answers TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    reminded_at TIMESTAMP
);
CREATE INDEX drafts_user_id ON drafts(user_id, updated_at);
CREATE INDEX drafts_expires_at ON drafts(expires_at);

-- A filed dossier, for its whole lifecycle (statuses 1-10 of domain.md §3). The form definition
-- and answers are frozen at submission; lock_version guards concurrent transitions.
CREATE TABLE dossiers (
    id INTEGER PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    -- The draft it came from: unique, so a draft is submitted once even when two requests race.
    draft_public_id TEXT UNIQUE,
    agency_id BIGINT NOT NULL REFERENCES agencies(id),
    service_id BIGINT NOT NULL REFERENCES services(id),
    service_version INTEGER NOT NULL,
    user_id BIGINT REFERENCES users(id),
    channel TEXT NOT NULL CHECK (channel IN ('online', 'counter', 'post')),
    status INTEGER NOT NULL CHECK (status BETWEEN 1 AND 10),
    level TEXT NOT NULL CHECK (level IN ('ministry', 'province', 'commune')),
    province_code TEXT REFERENCES provinces(code),
    ward_code TEXT REFERENCES wards(code),
    rule_id BIGINT REFERENCES routing_rules(id) ON DELETE SET NULL,
    route_note TEXT NOT NULL,
    form_version INTEGER NOT NULL,
    form_definition TEXT NOT NULL,
    answers TEXT NOT NULL,
    applicant_name TEXT NOT NULL,
    applicant_cccd TEXT NOT NULL,
    applicant_phone TEXT NOT NULL,
    applicant_email TEXT NOT NULL,
    applicant_address TEXT NOT NULL,
    fee_vnd BIGINT NOT NULL,
    time_limit TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    clock_starts_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP,
    lock_version INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX dossiers_user_id ON dossiers(user_id, submitted_at);
CREATE INDEX dossiers_agency_status ON dossiers(agency_id, status, due_at);

-- The timeline: every status change and hand-over, who and when.
CREATE TABLE dossier_events (
    id INTEGER PRIMARY KEY NOT NULL,
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    action TEXT NOT NULL CHECK (action IN ('submit', 'pay', 'accept', 'refuse', 'start',
        'request_supplement', 'supplement', 'request_payment', 'request_withdrawal',
        'confirm_withdrawal', 'stop', 'approve', 'deliver', 'assign', 'transfer', 'consult',
        'reschedule', 'note')),
    from_status INTEGER,
    to_status INTEGER NOT NULL CHECK (to_status BETWEEN 1 AND 10),
    note TEXT NOT NULL,
    internal BOOLEAN NOT NULL
);
CREATE INDEX dossier_events_dossier_id ON dossier_events(dossier_id, id);

-- The daily sequence of each office's dossier codes: one row per office and day, incremented in
-- the submitting transaction, so numbers are unique and without gaps.
CREATE TABLE office_sequences (
    agency_id BIGINT NOT NULL REFERENCES agencies(id),
    day DATE NOT NULL,
    last_value INTEGER NOT NULL,
    PRIMARY KEY (agency_id, day)
);

-- Uploaded files: the bytes live in storage (a directory or an S3 bucket) under storage_key.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY NOT NULL,
    public_id TEXT NOT NULL UNIQUE,
    draft_id BIGINT REFERENCES drafts(id),
    dossier_id BIGINT REFERENCES dossiers(id),
    owner_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    slot TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_draft_id ON attachments(draft_id);
CREATE INDEX attachments_dossier_id ON attachments(dossier_id);

-- Payments through a gateway; paid only on a verified server-to-server notification.
CREATE TABLE payments (
    id INTEGER PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    draft_id BIGINT REFERENCES drafts(id) ON DELETE SET NULL,
    dossier_id BIGINT REFERENCES dossiers(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    amount_vnd BIGINT NOT NULL CHECK (amount_vnd > 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed', 'cancelled', 'refunded')),
    gateway TEXT NOT NULL,
    gateway_txn TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    paid_at TIMESTAMP
);
CREATE INDEX payments_draft_id ON payments(draft_id);
CREATE INDEX payments_status ON payments(status, created_at);

-- Every gateway notification as received, accepted or not (forged, wrong amount, replayed).
CREATE TABLE payment_notifications (
    id INTEGER PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    outcome TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX payment_notifications_reference ON payment_notifications(reference);

-- Catalogue: administrative units, agencies (a tree with jurisdiction), fields, services (versioned),
-- their channels, documents and legal basis; holidays; search synonyms; small key/value app state.
CREATE TABLE provinces (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    full_name TEXT NOT NULL,
    kind TEXT NOT NULL
);

CREATE TABLE wards (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    full_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    province_code TEXT NOT NULL REFERENCES provinces(code)
);
CREATE INDEX wards_province_code ON wards(province_code);

-- An agency is a node in the state's tree (ministry > department > office); `tier` says at which
-- administrative level it works and province/ward give its territorial jurisdiction.
CREATE TABLE agencies (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    parent_id BIGINT REFERENCES agencies(id),
    tier TEXT NOT NULL,
    province_code TEXT REFERENCES provinces(code),
    ward_code TEXT REFERENCES wards(code),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX agencies_parent_id ON agencies(parent_id);

CREATE TABLE fields (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    slug TEXT NOT NULL UNIQUE
);

CREATE TABLE target_groups (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE services (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    field_id BIGINT NOT NULL REFERENCES fields(id),
    ministry_id BIGINT NOT NULL REFERENCES agencies(id),
    agency_id BIGINT REFERENCES agencies(id),
    procedure_type TEXT NOT NULL,
    decision_number TEXT NOT NULL,
    implementing_agency TEXT NOT NULL,
    competent_agency TEXT NOT NULL,
    documents_text TEXT NOT NULL,
    steps TEXT NOT NULL,
    requirements TEXT NOT NULL,
    result_code TEXT NOT NULL,
    result TEXT NOT NULL,
    related_procedures TEXT NOT NULL,
    source_url TEXT NOT NULL,
    online_level INTEGER NOT NULL,
    online_level_source TEXT NOT NULL,
    has_online BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    version INTEGER NOT NULL,
    seed_hash TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX services_field_id ON services(field_id);
CREATE INDEX services_ministry_id ON services(ministry_id);
CREATE INDEX services_online_level ON services(online_level);

CREATE TABLE service_implementing_levels (
    service_id BIGINT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    PRIMARY KEY (service_id, level)
);

CREATE TABLE service_target_groups (
    service_id BIGINT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    target_group_id BIGINT NOT NULL REFERENCES target_groups(id),
    PRIMARY KEY (service_id, target_group_id)
);

CREATE TABLE service_channels (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    channel TEXT NOT NULL,
    processing_time DOUBLE PRECISION,
    time_unit TEXT,
    time_unit_text TEXT NOT NULL,
    fee_vnd BIGINT,
    fee_text TEXT NOT NULL
);
CREATE INDEX service_channels_service_id ON service_channels(service_id);

CREATE TABLE service_documents (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    case_name TEXT NOT NULL,
    name TEXT NOT NULL,
    form_template TEXT NOT NULL,
    originals INTEGER,
    copies INTEGER
);
CREATE INDEX service_documents_service_id ON service_documents(service_id);

CREATE TABLE service_legal_bases (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    number TEXT NOT NULL
);
CREATE INDEX service_legal_bases_service_id ON service_legal_bases(service_id);

-- Every published change of a service keeps the previous record (JSON) for audit and rollback.
CREATE TABLE service_versions (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    snapshot TEXT NOT NULL,
    changed_by BIGINT,
    changed_at TIMESTAMP NOT NULL,
    note TEXT NOT NULL,
    UNIQUE (service_id, version)
);

CREATE TABLE holidays (
    day DATE PRIMARY KEY NOT NULL,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE search_synonyms (
    id BIGSERIAL PRIMARY KEY,
    term TEXT NOT NULL,
    expansion TEXT NOT NULL,
    UNIQUE (term, expansion)
);

CREATE TABLE app_state (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

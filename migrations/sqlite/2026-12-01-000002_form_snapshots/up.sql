-- A dossier keeps the form it was filed under. Most dossiers share a handful of form versions,
-- so the definition is stored once per distinct content (by its SHA-256) and a dossier holds
-- `sha256:<hex>` instead of a copy (dossiers filed before keep their inline copy).
CREATE TABLE form_snapshots (
    sha256 TEXT PRIMARY KEY NOT NULL,
    definition TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

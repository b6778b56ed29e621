DROP TABLE form_snapshots;

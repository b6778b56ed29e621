DROP TABLE form_snapshots;
DELETE FROM audit_log WHERE event = 'dossier_action';

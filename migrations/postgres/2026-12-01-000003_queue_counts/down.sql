DROP INDEX dossiers_applicant_key;
DROP TABLE office_stage_counts;

-- How many dossiers each office has in each queue stage, kept in the transaction of every change
-- (filing, a move between stages, a transfer), so the queue's tab counts cost one read at any size.
CREATE TABLE office_stage_counts (
    agency_id BIGINT NOT NULL REFERENCES agencies(id),
    stage INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (agency_id, stage)
);
INSERT INTO office_stage_counts (agency_id, stage, n)
    SELECT agency_id, stage, COUNT(*) FROM dossiers GROUP BY agency_id, stage;
-- The queue's name search is a prefix of the folded name, in byte order.
CREATE INDEX dossiers_applicant_key ON dossiers(agency_id, applicant_key);

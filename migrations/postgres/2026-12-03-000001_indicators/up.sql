-- The scoreboard's dossier indicators (shared/domain.md §7), kept incrementally. Each dossier's
-- own contribution is kept beside it (dossier_stats: the office, province and ministry it counts
-- for, the month it was received in, its measures), so a transition replaces the dossier's old
-- contribution by its new one in the same transaction: nothing is counted twice, whatever the
-- path. stat_cells holds the sums per scope (office, province, ministry, portal) and period
-- (month YYYY-MM, quarter YYYY-Qn, year YYYY). `portal stats rebuild` recomputes both from the
-- timeline; `portal stats check` compares.
CREATE TABLE dossier_stats (
    dossier_id BIGINT PRIMARY KEY REFERENCES dossiers(id),
    agency_id BIGINT NOT NULL,
    province_code TEXT NOT NULL,
    ministry_id BIGINT NOT NULL,
    month TEXT NOT NULL,
    tally TEXT NOT NULL,
    -- When the dossier becomes overdue unless something happens first (its clock runs and it is
    -- not late yet); the sweep job recomputes those whose moment has passed.
    watch_at TIMESTAMP
);
CREATE INDEX dossier_stats_watch ON dossier_stats(watch_at);

CREATE TABLE stat_cells (
    scope TEXT NOT NULL CHECK (scope IN ('office', 'province', 'ministry', 'portal')),
    scope_key TEXT NOT NULL,
    period TEXT NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    online BIGINT NOT NULL DEFAULT 0,
    counter BIGINT NOT NULL DEFAULT 0,
    post BIGINT NOT NULL DEFAULT 0,
    finished BIGINT NOT NULL DEFAULT 0,
    withdrawn BIGINT NOT NULL DEFAULT 0,
    on_time BIGINT NOT NULL DEFAULT 0,
    late BIGINT NOT NULL DEFAULT 0,
    overdue_now BIGINT NOT NULL DEFAULT 0,
    days_sum BIGINT NOT NULL DEFAULT 0,
    days_n BIGINT NOT NULL DEFAULT 0,
    charged BIGINT NOT NULL DEFAULT 0,
    paid_online BIGINT NOT NULL DEFAULT 0,
    with_result BIGINT NOT NULL DEFAULT 0,
    e_result BIGINT NOT NULL DEFAULT 0,
    rated BIGINT NOT NULL DEFAULT 0,
    negative BIGINT NOT NULL DEFAULT 0,
    s1 BIGINT NOT NULL DEFAULT 0,
    s2 BIGINT NOT NULL DEFAULT 0,
    s3 BIGINT NOT NULL DEFAULT 0,
    s4 BIGINT NOT NULL DEFAULT 0,
    s5 BIGINT NOT NULL DEFAULT 0,
    s6 BIGINT NOT NULL DEFAULT 0,
    s7 BIGINT NOT NULL DEFAULT 0,
    s8 BIGINT NOT NULL DEFAULT 0,
    s9 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, scope_key, period)
);
CREATE INDEX stat_cells_period ON stat_cells(scope, period);

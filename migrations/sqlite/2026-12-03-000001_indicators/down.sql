DROP TABLE stat_cells;
DROP TABLE dossier_stats;

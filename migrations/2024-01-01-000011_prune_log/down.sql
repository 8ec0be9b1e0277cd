DROP TABLE IF EXISTS reporter_prune_runs;

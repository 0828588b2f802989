-- runway monitor's probes from several places: a worker started with `--location NAME` stores
-- its location with each run (null for a worker without one, and for every run made before).
-- The partial index serves the latest run of each location of an environment (the dashboard,
-- quorum alerts) and costs nothing for runs without a location. The shared schedule needs no
-- new column: a located worker's jobs are keyed `environment@location`.
ALTER TABLE monitor_results ADD COLUMN location TEXT;
CREATE INDEX monitor_results_location ON monitor_results (environment, location, at_us)
    WHERE location IS NOT NULL;

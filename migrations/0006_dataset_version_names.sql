-- 0006_dataset_version_names.sql - versions the producer names (the `version` facet's datasetVersion:
-- a Delta or Iceberg snapshot, a DVC md5 content hash) are kept with the version row.
--
-- Design notes:
--  * A named version's UUID is derived from (namespace, name, datasetVersion) at decode time, so the
--    run that wrote the data and every run that read it (inputs pinning the version they read) meet
--    on one row whatever the arrival order; producer_version keeps the name so it can be looked up
--    (GET .../versions/{datasetVersion}) and served (the version facet of the DatasetVersion).
--  * Unnamed versions keep Marquez's UUIDs and have producer_version NULL; the partial index costs
--    them nothing.

ALTER TABLE dataset_versions ADD COLUMN producer_version text;
CREATE INDEX dataset_versions_producer ON dataset_versions (dataset_id, producer_version)
    WHERE producer_version IS NOT NULL;

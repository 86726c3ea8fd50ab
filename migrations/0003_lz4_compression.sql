-- 0003_lz4_compression.sql - compress large JSON (event bodies, facets) with lz4 instead of pglz.
--
-- Event bodies and facets (Spark logical plans, Airflow operator info) are often several KB and are
-- TOASTed; pglz compression was a visible share of the database's CPU at ingest. lz4 compresses
-- several times faster at a similar ratio. Only new values are affected; existing ones stay readable.
ALTER TABLE events ALTER COLUMN body SET COMPRESSION lz4;
ALTER TABLE run_facets ALTER COLUMN facet SET COMPRESSION lz4;
ALTER TABLE job_facets ALTER COLUMN facet SET COMPRESSION lz4;
ALTER TABLE dataset_facets ALTER COLUMN facet SET COMPRESSION lz4;
ALTER TABLE run_io_facets ALTER COLUMN facet SET COMPRESSION lz4;
ALTER TABLE dataset_versions ALTER COLUMN fields SET COMPRESSION lz4;

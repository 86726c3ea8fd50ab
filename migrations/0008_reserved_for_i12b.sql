-- 0008_reserved_for_i12b.sql - an empty placeholder, so that this branch's migration can be 0009 while
-- another branch (i12b) adds its own 0008: migration numbers must run without gaps
-- (scripts/embed_migrations.py). Drop this file when that 0008 is merged.
SELECT 1;

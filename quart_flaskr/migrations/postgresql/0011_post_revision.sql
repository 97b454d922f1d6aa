-- Schema version 11 on PostgreSQL, as SQLite's 0011_post_revision.sql: a
-- random number each post gets when it is written and again at each edit.
ALTER TABLE post ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

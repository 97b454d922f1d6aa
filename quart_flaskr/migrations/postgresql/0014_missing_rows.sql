-- Schema version 14 on PostgreSQL, as SQLite's 0014_missing_rows.sql: the rows
-- the data step has still to bring up to date, each kind in an index of its own.

CREATE INDEX post_html_missing ON post (id) WHERE body_html IS NULL;
CREATE INDEX comment_html_missing ON comment (id) WHERE body_html = '';
CREATE INDEX post_search_missing ON post (id) WHERE search_body IS NULL;
CREATE INDEX user_key_missing ON "user" (id) WHERE username_key IS NULL;
CREATE INDEX image_size_missing ON image (name) WHERE width IS NULL;

-- The data version moves once for each statement that writes, not again for
-- each write a trigger makes on its behalf: a comment's or a like's count on
-- its post, a tag left unused, an author's posts when the name changes. The
-- statement's own trigger has moved it already. Before, a statement that wrote
-- many comments (copy-db) moved the one row of data_version once for each,
-- and each move of one row within one transaction is slower than the last.
CREATE OR REPLACE FUNCTION data_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() = 1 THEN
    UPDATE data_version SET version = version + 1;
  END IF;
  RETURN NULL;
END
$$;

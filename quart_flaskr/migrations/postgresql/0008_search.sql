-- Schema version 8 on PostgreSQL, as SQLite's 0008_search.sql: each post
-- stores its title's, author's and body's terms as quart_flaskr/search.py
-- makes them (each term between two spaces; NULL until the data step after the
-- migrations stores them), and post.search holds exactly those terms, split at
-- the spaces and nothing else. The text search configuration, the functions
-- that analysed text in SQL and their triggers go.

DROP TRIGGER post_search ON post;
DROP FUNCTION post_search();
-- It kept the index up to date when a user was renamed; no code renames users.
DROP TRIGGER post_search_author ON "user";
DROP FUNCTION post_search_author();
DROP FUNCTION search_hits(TEXT, TEXT);
DROP FUNCTION search_query(TEXT);
DROP FUNCTION search_vector(TEXT);
DROP FUNCTION search_text(TEXT);
DROP TEXT SEARCH CONFIGURATION quart_flaskr_search;
DROP TEXT SEARCH DICTIONARY quart_flaskr_english;

ALTER TABLE post
  ADD COLUMN search_title TEXT,
  ADD COLUMN search_author TEXT,
  ADD COLUMN search_body TEXT;

-- The old lexemes were English stems of another analyser: no post is found
-- by them any more, only by the terms the data step stores.
UPDATE post SET search = '';

-- The terms (no positions: CJK phrases are checked in the stored terms).
CREATE FUNCTION post_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  new.search := array_to_tsvector(string_to_array(btrim(
    coalesce(new.search_title, '') || coalesce(new.search_author, '')
    || coalesce(new.search_body, '')), '  '));
  RETURN new;
END
$$;

CREATE TRIGGER post_search BEFORE INSERT OR UPDATE OF search_title, search_author, search_body
  ON post FOR EACH ROW EXECUTE FUNCTION post_search();

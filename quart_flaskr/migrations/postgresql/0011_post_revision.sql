-- Schema version 11 on PostgreSQL, as SQLite's 0011_post_revision.sql: a
-- random number a post gets when it is written and again whenever its text
-- (body or HTML) changes.
ALTER TABLE post ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

UPDATE post SET revision = floor(random() * 4611686018427387904)::BIGINT;

-- The app's writes set a new revision themselves; whatever else changes a
-- post's text gets one from here.
CREATE FUNCTION post_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF new.revision = old.revision THEN
    new.revision := floor(random() * 4611686018427387904)::BIGINT;
  END IF;
  RETURN new;
END
$$;

CREATE TRIGGER post_revision BEFORE UPDATE OF body, body_html ON post FOR EACH ROW
  WHEN (new.body IS DISTINCT FROM old.body OR new.body_html IS DISTINCT FROM old.body_html)
  EXECUTE FUNCTION post_revision();

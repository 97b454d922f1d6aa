-- Schema version 11: post.revision, a random number a post gets when it is
-- written and again whenever its text (body or HTML) changes. A post's text
-- is the same wherever its id and revision are: listings read each post's text
-- by them from the texts a process has read before, and only those it has not
-- (see quart_flaskr/models/posts.py).
ALTER TABLE post ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- The posts already written get one each (random() gives 64 bits: 62 are kept,
-- as the app's own revisions).
UPDATE post SET revision = random() & 4611686018427387903;

-- The app's writes set a new revision themselves; whatever else changes a
-- post's text (an operator's SQL, a later migration re-rendering the HTML)
-- gets one from here.
CREATE TRIGGER post_revision AFTER UPDATE OF body, body_html ON post
  WHEN new.revision = old.revision
    AND (new.body IS NOT old.body OR new.body_html IS NOT old.body_html)
BEGIN
  UPDATE post SET revision = random() & 4611686018427387903 WHERE id = new.id;
END;

-- Schema version 12 on PostgreSQL, as SQLite's 0012_post_tag_names.sql: the
-- names of the post's tags joined by commas, NULL for a post without tags,
-- written by the app with the post.
ALTER TABLE post ADD COLUMN tag_names TEXT;

UPDATE post SET tag_names = (
  SELECT string_agg(tag.name, ',') FROM post_tag JOIN tag ON tag.id = post_tag.tag_id
  WHERE post_tag.post_id = post.id
) WHERE id IN (SELECT post_id FROM post_tag);

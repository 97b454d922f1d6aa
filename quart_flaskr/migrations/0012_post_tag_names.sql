-- Schema version 12: post.tag_names, the names of the post's tags joined by
-- commas (which no tag name holds), NULL for a post without tags. A listing
-- reads it with the post rather than joining each listed post's tags: half of
-- PostgreSQL's work for a 50-post listing, a quarter of SQLite's. The app
-- writes it with the post, in the transaction that writes the post's tags
-- (see quart_flaskr/models/posts.py).
ALTER TABLE post ADD COLUMN tag_names TEXT;

UPDATE post SET tag_names = (
  SELECT group_concat(tag.name, ',') FROM post_tag JOIN tag ON tag.id = post_tag.tag_id
  WHERE post_tag.post_id = post.id
) WHERE id IN (SELECT post_id FROM post_tag);

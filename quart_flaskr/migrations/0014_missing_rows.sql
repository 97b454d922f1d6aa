-- Schema version 14: the rows the data step after the migrations has still to
-- bring up to date (see data.py), each kind in an index of its own. Each batch
-- of the step then finds the next rows in it at once, however few are left
-- and wherever they are, rather than stepping over the rows already done (or,
-- on PostgreSQL, reading the whole table once the planner has counted how few
-- are left: a step over a big blog took longer with each batch). The indexes
-- hold nothing once the step is done: a row written since is never missing.

CREATE INDEX post_html_missing ON post (id) WHERE body_html IS NULL;
CREATE INDEX comment_html_missing ON comment (id) WHERE body_html = '';
CREATE INDEX post_search_missing ON post (id) WHERE search_body IS NULL;
CREATE INDEX user_key_missing ON "user" (id) WHERE username_key IS NULL;
CREATE INDEX image_size_missing ON image (name) WHERE width IS NULL;

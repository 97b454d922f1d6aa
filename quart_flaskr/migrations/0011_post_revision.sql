-- Schema version 11: post.revision, a random number each post gets when it is
-- written and again at each edit (0 for posts from before this version). A
-- post's body and HTML are the same wherever its id and revision are: listings
-- read each post's text by them from the texts a process has read before, and
-- only those it has not (see quart_flaskr/models/posts.py).
ALTER TABLE post ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

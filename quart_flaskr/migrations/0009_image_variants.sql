-- Schema version 9: images know the size browsers show them at, and have
-- smaller copies, so that a page keeps its place while its images load and a
-- phone fetches an image the size of its screen (see quart_flaskr/imaging.py).
--
-- width, height: in pixels, upright (as its EXIF orientation turns it). NULL
-- for an image stored before this version, until the data step after the
-- migrations (see data.py) measures it and makes its variants; 0 when that
-- could not read it (it is shown as it is, without them).
ALTER TABLE image ADD COLUMN width INTEGER;
ALTER TABLE image ADD COLUMN height INTEGER;

-- An image's variants: the same picture at a smaller width, in WebP or in the
-- image's own kind; the extension of name gives the kind. Each has a stored
-- name of its own, as images do, never given to other bytes; they are written
-- and deleted with their image, in its post's transaction.
CREATE TABLE image_variant (
  name TEXT PRIMARY KEY,
  image TEXT NOT NULL REFERENCES image (name) ON DELETE CASCADE,
  width INTEGER NOT NULL,
  data BLOB NOT NULL,
  created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) WITHOUT ROWID;

CREATE INDEX image_variant_image ON image_variant (image);

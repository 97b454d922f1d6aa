-- Schema version 9 on PostgreSQL, as SQLite's 0009_image_variants.sql: each
-- image's size, upright, in pixels (NULL until the data step after the
-- migrations measures an image stored before this version, 0 when it could not
-- read it), and its smaller copies, in WebP or the image's own kind, each
-- under a stored name of its own, written and deleted with their image.

ALTER TABLE image
  ADD COLUMN width INTEGER,
  ADD COLUMN height INTEGER;

CREATE TABLE image_variant (
  name TEXT PRIMARY KEY,
  image TEXT NOT NULL REFERENCES image (name) ON DELETE CASCADE,
  width INTEGER NOT NULL,
  data BYTEA NOT NULL,
  created TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);

CREATE INDEX image_variant_image ON image_variant (image);

-- Pages show the variants: writing them moves data_version, as for image.
CREATE TRIGGER data_version_image_variant AFTER INSERT OR UPDATE OR DELETE ON image_variant
  FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump();

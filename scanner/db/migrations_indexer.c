/* Indexer schema (libindex_migrations). Append new migrations; never edit a released one. */
#include "scanner/db/db_int.h"

static const char *const m1[] = {
	"CREATE TABLE IF NOT EXISTS layer (\n"
	"  id BIGSERIAL PRIMARY KEY,\n"
	"  hash TEXT NOT NULL UNIQUE\n"
	")",
	"CREATE TABLE IF NOT EXISTS manifest (\n"
	"  id BIGSERIAL PRIMARY KEY,\n"
	"  hash TEXT NOT NULL UNIQUE\n"
	")",
	"CREATE TABLE IF NOT EXISTS manifest_layer (\n"
	"  manifest_id BIGINT NOT NULL REFERENCES manifest (id) ON DELETE CASCADE,\n"
	"  layer_id BIGINT NOT NULL REFERENCES layer (id) ON DELETE CASCADE,\n"
	"  i BIGINT NOT NULL,\n"
	"  PRIMARY KEY (manifest_id, layer_id, i)\n"
	")",
	"CREATE INDEX IF NOT EXISTS idx_manifest_layer_layer_id ON manifest_layer (layer_id)",
	"CREATE TABLE IF NOT EXISTS scanner (\n"
	"  id BIGSERIAL PRIMARY KEY,\n"
	"  name TEXT NOT NULL,\n"
	"  version TEXT NOT NULL,\n"
	"  kind TEXT NOT NULL\n"
	")",
	"CREATE UNIQUE INDEX IF NOT EXISTS scanner_unique_idx ON scanner (name, kind, version)",
	"CREATE TABLE IF NOT EXISTS scanned_manifest (\n"
	"  manifest_id BIGINT NOT NULL REFERENCES manifest (id) ON DELETE CASCADE,\n"
	"  scanner_id BIGINT NOT NULL REFERENCES scanner (id) ON DELETE CASCADE,\n"
	"  PRIMARY KEY (manifest_id, scanner_id)\n"
	")",
	"CREATE TABLE IF NOT EXISTS scanned_layer (\n"
	"  layer_id BIGINT NOT NULL REFERENCES layer (id) ON DELETE CASCADE,\n"
	"  scanner_id BIGINT NOT NULL REFERENCES scanner (id) ON DELETE CASCADE,\n"
	"  PRIMARY KEY (layer_id, scanner_id)\n"
	")",
	"CREATE TABLE IF NOT EXISTS indexreport (\n"
	"  manifest_id BIGINT PRIMARY KEY REFERENCES manifest (id) ON DELETE CASCADE,\n"
	"  state TEXT,\n"
	"  scan_result JSONB\n"
	")",
	"CREATE TABLE IF NOT EXISTS dist (\n"
	"  id BIGSERIAL PRIMARY KEY,\n"
	"  name TEXT NOT NULL DEFAULT '',\n"
	"  did TEXT NOT NULL DEFAULT '',\n"
	"  version TEXT NOT NULL DEFAULT '',\n"
	"  version_code_name TEXT NOT NULL DEFAULT '',\n"
	"  version_id TEXT NOT NULL DEFAULT '',\n"
	"  arch TEXT NOT NULL DEFAULT '',\n"
	"  cpe TEXT NOT NULL DEFAULT '',\n"
	"  pretty_name TEXT NOT NULL DEFAULT ''\n"
	")",
	"CREATE UNIQUE INDEX IF NOT EXISTS dist_unique_idx ON dist\n"
	"  (name, did, version, version_code_name, version_id, arch, cpe, pretty_name)",
	"CREATE TABLE IF NOT EXISTS dist_scanartifact (\n"
	"  dist_id BIGINT NOT NULL REFERENCES dist (id) ON DELETE CASCADE,\n"
	"  scanner_id BIGINT NOT NULL REFERENCES scanner (id) ON DELETE CASCADE,\n"
	"  layer_id BIGINT NOT NULL REFERENCES layer (id) ON DELETE CASCADE,\n"
	"  PRIMARY KEY (dist_id, scanner_id, layer_id)\n"
	")",
	"CREATE INDEX IF NOT EXISTS dist_scanartifact_lookup_idx ON dist_scanartifact (layer_id)",
	"CREATE TABLE IF NOT EXISTS package (\n"
	"  id BIGSERIAL PRIMARY KEY,\n"
	"  name TEXT NOT NULL,\n"
	"  kind TEXT NOT NULL DEFAULT '',\n"
	"  version TEXT NOT NULL DEFAULT '',\n"
	"  norm_kind TEXT,\n"
	"  norm_version INTEGER[10],\n"
	"  module TEXT NOT NULL DEFAULT '',\n"
	"  arch TEXT NOT NULL DEFAULT ''\n"
	")",
	"CREATE UNIQUE INDEX IF NOT EXISTS package_unique_idx ON package (name, version, kind, module, arch)",
	"CREATE TABLE IF NOT EXISTS package_scanartifact (\n"
	"  id BIGSERIAL PRIMARY KEY,\n"
	"  layer_id BIGINT NOT NULL REFERENCES layer (id) ON DELETE CASCADE,\n"
	"  package_id BIGINT NOT NULL REFERENCES package (id) ON DELETE CASCADE,\n"
	"  source_id BIGINT REFERENCES package (id) ON DELETE CASCADE,\n"
	"  scanner_id BIGINT NOT NULL REFERENCES scanner (id) ON DELETE CASCADE,\n"
	"  package_db TEXT NOT NULL DEFAULT '',\n"
	"  repository_hint TEXT NOT NULL DEFAULT '',\n"
	"  filepath TEXT NOT NULL DEFAULT ''\n"
	")",
	"CREATE UNIQUE INDEX IF NOT EXISTS package_scanartifact_unique_idx ON package_scanartifact\n"
	"  (layer_id, package_id, COALESCE(source_id, 0), scanner_id, package_db, repository_hint, filepath)",
	"CREATE INDEX IF NOT EXISTS package_scanartifact_lookup_idx ON package_scanartifact (layer_id)",
	"CREATE TABLE IF NOT EXISTS repo (\n"
	"  id BIGSERIAL PRIMARY KEY,\n"
	"  name TEXT NOT NULL,\n"
	"  key TEXT NOT NULL DEFAULT '',\n"
	"  uri TEXT NOT NULL DEFAULT '',\n"
	"  cpe TEXT NOT NULL DEFAULT ''\n"
	")",
	"CREATE UNIQUE INDEX IF NOT EXISTS repo_unique_idx ON repo (name, key, uri)",
	"CREATE TABLE IF NOT EXISTS repo_scanartifact (\n"
	"  repo_id BIGINT NOT NULL REFERENCES repo (id) ON DELETE CASCADE,\n"
	"  scanner_id BIGINT NOT NULL REFERENCES scanner (id) ON DELETE CASCADE,\n"
	"  layer_id BIGINT NOT NULL REFERENCES layer (id) ON DELETE CASCADE,\n"
	"  PRIMARY KEY (repo_id, scanner_id, layer_id)\n"
	")",
	"CREATE INDEX IF NOT EXISTS repo_scanartifact_lookup_idx ON repo_scanartifact (layer_id)",
	"CREATE TABLE IF NOT EXISTS manifest_index (\n"
	"  id BIGSERIAL PRIMARY KEY,\n"
	"  package_id BIGINT NOT NULL REFERENCES package (id) ON DELETE CASCADE,\n"
	"  dist_id BIGINT REFERENCES dist (id) ON DELETE CASCADE,\n"
	"  repo_id BIGINT REFERENCES repo (id) ON DELETE CASCADE,\n"
	"  manifest_id BIGINT NOT NULL REFERENCES manifest (id) ON DELETE CASCADE\n"
	")",
	"CREATE UNIQUE INDEX IF NOT EXISTS manifest_index_unique ON manifest_index\n"
	"  (package_id, COALESCE(dist_id, 0), COALESCE(repo_id, 0), manifest_id)",
	"CREATE INDEX IF NOT EXISTS idx_manifest_index_manifest_id ON manifest_index (manifest_id)",
	"CREATE TABLE IF NOT EXISTS file (\n"
	"  id BIGSERIAL PRIMARY KEY,\n"
	"  path TEXT NOT NULL,\n"
	"  kind TEXT NOT NULL,\n"
	"  UNIQUE (path, kind)\n"
	")",
	"CREATE TABLE IF NOT EXISTS file_scanartifact (\n"
	"  file_id BIGINT NOT NULL REFERENCES file (id) ON DELETE CASCADE,\n"
	"  scanner_id BIGINT NOT NULL REFERENCES scanner (id) ON DELETE CASCADE,\n"
	"  layer_id BIGINT NOT NULL REFERENCES layer (id) ON DELETE CASCADE,\n"
	"  PRIMARY KEY (file_id, scanner_id, layer_id)\n"
	")",
	"CREATE INDEX IF NOT EXISTS file_scanartifact_lookup_idx ON file_scanartifact (layer_id)",
	/* shared with the matcher schema when both live in one database */
	"DO $$ BEGIN\n"
	"  CREATE TYPE VersionRange AS RANGE (SUBTYPE = integer[10]);\n"
	"EXCEPTION WHEN duplicate_object THEN NULL;\n"
	"END $$",
	NULL,
};

const struct db_migration db_migrations_indexer[] = {
	{1, m1},
};
const int db_migrations_indexer_n = (int)(sizeof(db_migrations_indexer) / sizeof(db_migrations_indexer[0]));

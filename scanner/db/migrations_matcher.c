/* Matcher schema (libvuln_migrations). Append new migrations; never edit a released one. */
#include "scanner/db/db_int.h"
#include "scanner/db/migrations_uuid.h"

static const char *const m1[] = {
	DB_SQL_UUID_OSSP,
	"CREATE TABLE IF NOT EXISTS update_operation (\n"
	"  id BIGSERIAL PRIMARY KEY,\n"
	"  ref uuid UNIQUE DEFAULT uuid_generate_v4(),\n"
	"  updater TEXT NOT NULL,\n"
	"  fingerprint TEXT,\n"
	"  date TIMESTAMP WITH TIME ZONE DEFAULT now(),\n"
	"  kind TEXT NOT NULL DEFAULT 'vulnerability' CHECK (kind IN ('vulnerability', 'enrichment'))\n"
	")",
	"CREATE INDEX IF NOT EXISTS uo_updater_idx ON update_operation (updater)",
	"DO $$ BEGIN\n"
	"  CREATE TYPE VersionRange AS RANGE (SUBTYPE = integer[10]);\n"
	"EXCEPTION WHEN duplicate_object THEN NULL;\n"
	"END $$",
	"CREATE TABLE IF NOT EXISTS vuln (\n"
	"  id BIGSERIAL PRIMARY KEY,\n"
	"  hash_kind TEXT NOT NULL,\n"
	"  hash BYTEA NOT NULL,\n"
	"  updater TEXT,\n"
	"  name TEXT,\n"
	"  description TEXT,\n"
	"  issued TIMESTAMPTZ,\n"
	"  links TEXT,\n"
	"  severity TEXT,\n"
	"  normalized_severity TEXT,\n"
	"  package_name TEXT,\n"
	"  package_version TEXT,\n"
	"  package_module TEXT,\n"
	"  package_arch TEXT,\n"
	"  package_kind TEXT,\n"
	"  dist_id TEXT,\n"
	"  dist_name TEXT,\n"
	"  dist_version TEXT,\n"
	"  dist_version_code_name TEXT,\n"
	"  dist_version_id TEXT,\n"
	"  dist_arch TEXT,\n"
	"  dist_cpe TEXT,\n"
	"  dist_pretty_name TEXT,\n"
	"  repo_name TEXT,\n"
	"  repo_key TEXT,\n"
	"  repo_uri TEXT,\n"
	"  fixed_in_version TEXT,\n"
	"  arch_operation TEXT,\n"
	"  vulnerable_range VersionRange NOT NULL DEFAULT VersionRange('{}', '{}', '()'),\n"
	"  version_kind TEXT,\n"
	"  not_vulnerable BOOLEAN NOT NULL DEFAULT false,\n"
	"  UNIQUE (hash_kind, hash)\n"
	")",
	"CREATE INDEX IF NOT EXISTS vuln_lookup_idx ON vuln (package_name, dist_id, dist_name,\n"
	"  dist_pretty_name, dist_version, dist_version_id, package_module, dist_version_code_name,\n"
	"  repo_name, dist_arch, dist_cpe, repo_key, repo_uri)",
	"CREATE INDEX IF NOT EXISTS vuln_updater_idx ON vuln (updater)",
	"CREATE TABLE IF NOT EXISTS uo_vuln (\n"
	"  uo BIGINT REFERENCES update_operation (id) ON DELETE CASCADE,\n"
	"  vuln BIGINT REFERENCES vuln (id) ON DELETE CASCADE,\n"
	"  PRIMARY KEY (uo, vuln)\n"
	")",
	"CREATE INDEX IF NOT EXISTS uo_vuln_vuln_idx ON uo_vuln (vuln)",
	"CREATE OR REPLACE VIEW latest_vuln AS\n"
	"SELECT v.* FROM (SELECT DISTINCT ON (updater) id FROM update_operation\n"
	"                 WHERE kind = 'vulnerability' ORDER BY updater, id DESC) uo\n"
	"  JOIN uo_vuln ON uo_vuln.uo = uo.id\n"
	"  JOIN vuln v ON uo_vuln.vuln = v.id",
	"CREATE MATERIALIZED VIEW IF NOT EXISTS latest_update_operations AS\n"
	"SELECT DISTINCT ON (updater) id, kind, updater FROM update_operation ORDER BY updater, id DESC",
	"CREATE UNIQUE INDEX IF NOT EXISTS latest_update_operations_updater_idx\n"
	"  ON latest_update_operations (updater)",
	"CREATE TABLE IF NOT EXISTS enrichment (\n"
	"  id BIGSERIAL PRIMARY KEY,\n"
	"  hash_kind TEXT NOT NULL,\n"
	"  hash BYTEA NOT NULL,\n"
	"  updater TEXT NOT NULL,\n"
	"  tags TEXT[],\n"
	"  data JSONB,\n"
	"  UNIQUE (hash_kind, hash)\n"
	")",
	"CREATE INDEX IF NOT EXISTS enrichment_tags_idx ON enrichment USING GIN (tags)",
	"CREATE INDEX IF NOT EXISTS enrichment_updater_idx ON enrichment (updater)",
	"CREATE TABLE IF NOT EXISTS uo_enrich (\n"
	"  uo BIGINT NOT NULL REFERENCES update_operation (id) ON DELETE CASCADE,\n"
	"  enrich BIGINT NOT NULL REFERENCES enrichment (id) ON DELETE CASCADE,\n"
	"  updater TEXT NOT NULL,\n"
	"  fingerprint TEXT,\n"
	"  date TIMESTAMPTZ DEFAULT now(),\n"
	"  PRIMARY KEY (uo, enrich)\n"
	")",
	"CREATE INDEX IF NOT EXISTS uo_enrich_enrich_idx ON uo_enrich (enrich)",
	"CREATE TABLE IF NOT EXISTS updater_status (\n"
	"  updater_name TEXT PRIMARY KEY,\n"
	"  last_attempt TIMESTAMPTZ DEFAULT now(),\n"
	"  last_success TIMESTAMPTZ,\n"
	"  last_run_succeeded BOOLEAN,\n"
	"  last_attempt_fingerprint TEXT,\n"
	"  last_error TEXT\n"
	")",
	"CREATE TABLE IF NOT EXISTS alias_namespace (\n"
	"  id BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY,\n"
	"  namespace TEXT UNIQUE NOT NULL\n"
	")",
	"CREATE TABLE IF NOT EXISTS alias (\n"
	"  id BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY,\n"
	"  namespace BIGINT NOT NULL REFERENCES alias_namespace (id) ON DELETE CASCADE,\n"
	"  name TEXT NOT NULL,\n"
	"  UNIQUE (namespace, name)\n"
	")",
	"CREATE TABLE IF NOT EXISTS vulnerability_alias (\n"
	"  vulnerability BIGINT REFERENCES vuln (id) ON DELETE CASCADE,\n"
	"  alias BIGINT NOT NULL REFERENCES alias (id) ON DELETE CASCADE,\n"
	"  PRIMARY KEY (vulnerability, alias)\n"
	")",
	"CREATE TABLE IF NOT EXISTS vulnerability_self (\n"
	"  vulnerability BIGINT PRIMARY KEY REFERENCES vuln (id) ON DELETE CASCADE,\n"
	"  self BIGINT NOT NULL REFERENCES alias (id) ON DELETE CASCADE\n"
	")",
	NULL,
};

/* 2: vulnerable ranges as the ecosystem's own version strings (OSV / pyup: introduced <= v <
 * fixed, or v <= last_affected), compared with the exact comparator at match time. */
static const char *const m2[] = {
	"ALTER TABLE vuln ADD COLUMN IF NOT EXISTS range_introduced TEXT NOT NULL DEFAULT ''",
	"ALTER TABLE vuln ADD COLUMN IF NOT EXISTS range_fixed TEXT NOT NULL DEFAULT ''",
	"ALTER TABLE vuln ADD COLUMN IF NOT EXISTS range_last_affected TEXT NOT NULL DEFAULT ''",
	NULL,
};

const struct db_migration db_migrations_matcher[] = {
	{1, m1},
	{2, m2},
};
const int db_migrations_matcher_n = (int)(sizeof(db_migrations_matcher) / sizeof(db_migrations_matcher[0]));

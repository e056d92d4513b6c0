/* Notifier schema (notifier_migrations). Append new migrations; never edit a released one. */
#include "scanner/db/db_int.h"
#include "scanner/db/migrations_uuid.h"

static const char *const m1[] = {
	DB_SQL_UUID_OSSP,
	"CREATE TABLE IF NOT EXISTS notification (\n"
	"  id uuid PRIMARY KEY\n"
	")",
	"CREATE TABLE IF NOT EXISTS notifier_update_operation (\n"
	"  uo_id uuid PRIMARY KEY,\n"
	"  updater TEXT NOT NULL,\n"
	"  ts TIMESTAMPTZ NOT NULL DEFAULT now()\n"
	")",
	"CREATE INDEX IF NOT EXISTS notifier_update_operation_updater_idx\n"
	"  ON notifier_update_operation (updater, ts)",
	"CREATE TABLE IF NOT EXISTS notification_body (\n"
	"  id uuid PRIMARY KEY,\n"
	"  notification_id uuid NOT NULL REFERENCES notification (id) ON DELETE CASCADE,\n"
	"  body JSONB NOT NULL\n"
	")",
	"CREATE INDEX IF NOT EXISTS notification_body_notification_id_idx\n"
	"  ON notification_body (notification_id, id)",
	"DO $$ BEGIN\n"
	"  CREATE TYPE receiptstatus AS ENUM ('created', 'delivered', 'delivery_failed', 'deleted');\n"
	"EXCEPTION WHEN duplicate_object THEN NULL;\n"
	"END $$",
	"CREATE TABLE IF NOT EXISTS receipt (\n"
	"  notification_id uuid PRIMARY KEY REFERENCES notification (id) ON DELETE CASCADE,\n"
	"  uo_id uuid REFERENCES notifier_update_operation (uo_id) ON DELETE CASCADE,\n"
	"  status receiptstatus NOT NULL,\n"
	"  ts TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
	"  details JSONB\n"
	")",
	"CREATE INDEX IF NOT EXISTS receipt_notification_id_uo_id_idx ON receipt (notification_id, uo_id)",
	"CREATE INDEX IF NOT EXISTS receipt_uo_id_idx ON receipt (uo_id)",
	"CREATE TABLE IF NOT EXISTS key (\n"
	"  id uuid PRIMARY KEY,\n"
	"  expiration TIMESTAMPTZ,\n"
	"  pub_key BYTEA\n"
	")",
	NULL,
};

const struct db_migration db_migrations_notifier[] = {
	{1, m1},
};
const int db_migrations_notifier_n = (int)(sizeof(db_migrations_notifier) / sizeof(db_migrations_notifier[0]));

/* The uuid-ossp step shared by the matcher and notifier first migrations: re-raises any failure
 * with claircore's message and the server's SQLSTATE. */
#ifndef SCANNER_DB_MIGRATIONS_UUID_H
#define SCANNER_DB_MIGRATIONS_UUID_H

#define DB_SQL_UUID_OSSP                                                                  \
	"DO $$\n"                                                                         \
	"DECLARE code text; detail text; hint text;\n"                                    \
	"BEGIN\n"                                                                         \
	"  EXECUTE 'CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"';\n"                     \
	"EXCEPTION WHEN OTHERS THEN\n"                                                    \
	"  GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL,\n" \
	"    hint = PG_EXCEPTION_HINT;\n"                                                 \
	"  RAISE EXCEPTION USING MESSAGE = 'Please load the \"uuid-ossp\" extension.',\n"  \
	"    ERRCODE = code, DETAIL = detail, HINT = hint;\n"                             \
	"END $$"

#endif

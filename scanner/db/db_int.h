/* Internals shared by the files of scanner/db. */
#ifndef SCANNER_DB_DB_INT_H
#define SCANNER_DB_DB_INT_H

#include "scanner/db/db.h"

/* Statements that succeeded on this thread (db_exec/db_exec_params); the retry logic compares it
 * before and after a callback to know whether anything had already happened. */
unsigned long db_int_ok_count(void);

struct db_migration {
	int version;
	const char *const *stmts; /* NULL-terminated */
};

extern const struct db_migration db_migrations_indexer[];
extern const int db_migrations_indexer_n;
extern const struct db_migration db_migrations_matcher[];
extern const int db_migrations_matcher_n;
extern const struct db_migration db_migrations_notifier[];
extern const int db_migrations_notifier_n;

#endif

/* dsn_fuzz: db_dsn_parse (key=value and postgres:// URL connection strings) and the logger's
 * DSN redaction. A parsed DSN must have matching key/value arrays, no pool_* keys left,
 * application_name and connect_timeout filled in, and describe() must never show the password. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "fuzz/fuzz.h"
#include "scanner/db/db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct db_dsn dsn;
	struct diag d;
	char desc[512];
	char *s;
	int rc;

	if (size > 16384)
		return 0;
	s = fuzz_strndup(data, size);
	if (!s)
		return 0;
	d.msg[0] = '\0';
	rc = db_dsn_parse(s, "fuzz", &dsn, &d);
	if (rc == 0) {
		size_t n = 0;
		if (!dsn.keys || !dsn.vals)
			abort();
		for (; dsn.keys[n]; n++) {
			if (!dsn.vals[n])
				abort();
			if (strncmp(dsn.keys[n], "pool_", 5) == 0)
				abort();
		}
		if (dsn.vals[n])
			abort(); /* both arrays end together */
		if (!db_dsn_get(&dsn, "application_name") || !db_dsn_get(&dsn, "connect_timeout"))
			abort();
		if (dsn.pool_max_conns < 0)
			abort();
		db_dsn_describe(&dsn, desc, sizeof(desc));
		if (strlen(desc) >= sizeof(desc))
			abort();
		{
			const char *pw = db_dsn_get(&dsn, "password");
			/* the password never shows (unless it is also the host or db name, or short
			 * enough to occur by chance) */
			if (pw && strlen(pw) >= 8 && !strpbrk(pw, ":/") && strstr(desc, pw)) {
				const char *host = db_dsn_get(&dsn, "host"), *db = db_dsn_get(&dsn, "dbname");
				const char *user = db_dsn_get(&dsn, "user"), *port = db_dsn_get(&dsn, "port");
				if (!(host && strstr(host, pw)) && !(db && strstr(db, pw)) &&
				    !(user && strstr(user, pw)) && !(port && strstr(port, pw))) {
					fprintf(stderr, "dsn_fuzz: password \"%s\" in description \"%s\"\n", pw, desc);
					abort();
				}
			}
		}
		db_dsn_release(&dsn);
	} else if (rc != -EINVAL && rc != -EFBIG && rc != -ENOMEM) {
		abort();
	} else if (!d.msg[0]) {
		abort(); /* every failure says why */
	}
	/* redaction into a buffer that always fits: each "password=" (9+ bytes) grows by at most
	 * "REDACTED" (8 bytes) */
	{
		size_t rl = 2 * size + 64;
		char *red = malloc(rl);
		if (red) {
			log_redact_dsn(s, red, rl);
			if (strlen(red) >= rl)
				abort();
			free(red);
		}
	}
	/* Truncating output: log_redact_dsn once looped forever when the output did not fit
	 * (found by this target; fixed, and kept as a regression check). */
	{
		char small[8];
		log_redact_dsn(s, small, sizeof(small));
		if (strlen(small) >= sizeof(small))
			abort();
	}
	free(s);
	return 0;
}

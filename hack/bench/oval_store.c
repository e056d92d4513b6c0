/* oval_store: benchmark driver (not product code) for hack/bench_matcher.sh.
 *
 *   oval_store DSN FILE RUNS
 *
 * Runs the rhel updater's parse (scanner/updaters/src_rhel.c, set "rhel", release 8) on FILE,
 * RUNS times each way, and prints one JSON line per run on stdout:
 *   {"mode":"parse","seconds":S,"vulns":N}   parse into a counting sink (no database)
 *   {"mode":"store","seconds":S,"vulns":N}   parse streamed into matcher_store_writer (COPY),
 *                                            committed as one update operation (includes the
 *                                            commit's INSERTs into vuln/uo_vuln and the refresh
 *                                            of latest_update_operations)
 * Before every "store" run the matcher tables are emptied, so each run inserts every row anew
 * (the store de-duplicates equal vulns, a second run on a full table would insert nothing).
 * Exit status 0, or 1 with the diag on stderr. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/diag.h"
#include "common/log.h"
#include "scanner/db/db.h"
#include "scanner/matcher/store.h"
#include "scanner/updaters/oval/oval_sets.h"
#include "scanner/updaters/updater.h"

struct count_sink {
	size_t n;
};

static int count_add(void *ctx, const struct vuln *v)
{
	(void)v;
	((struct count_sink *)ctx)->n++;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_truncate(struct db_pool *pool, struct diag *d)
{
	return db_pool_exec(pool, "TRUNCATE uo_vuln, vuln, update_operation RESTART IDENTITY CASCADE", d);
}

int main(int argc, char **argv)
{
	struct diag d = {{0}};
	struct db_pool *pool = NULL;
	struct updater_src *srcs = NULL;
	size_t nsrcs = 0;
	json_t *cfg = NULL;
	int rc = 1;
	long runs;
	char *end = NULL;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DSN FILE RUNS\n", argv[0]);
		return 2;
	}
	runs = strtol(argv[3], &end, 10);
	if (*end || runs < 1 || runs > 100) {
		fprintf(stderr, "oval_store: RUNS must be 1..100\n");
		return 2;
	}
	log_set_level(LOG_WARN);
	cfg = json_pack("{s:[s]}", "releases", "8");
	if (!cfg) {
		fprintf(stderr, "oval_store: out of memory\n");
		return 1;
	}
	if (updater_set_rhel.expand(cfg, NULL, &srcs, &nsrcs, &d) < 0 || nsrcs != 1) {
		fprintf(stderr, "oval_store: expand rhel: %s\n", d.msg);
		goto out;
	}
	if (db_pool_new(argv[1], 2, "bench-oval-store", &pool, &d) < 0 || db_migrate(pool, DB_SCHEMA_MATCHER, &d) < 0) {
		fprintf(stderr, "oval_store: database: %s\n", d.msg);
		goto out;
	}
	for (long i = 0; i < runs; i++) {
		struct count_sink cs = {0};
		struct vuln_sink sink = {count_add, &cs};
		double t0 = now_s();
		if (srcs[0].parse(&srcs[0], argv[2], &sink, &d) < 0) {
			fprintf(stderr, "oval_store: parse: %s\n", d.msg);
			goto out;
		}
		printf("{\"mode\":\"parse\",\"seconds\":%.6f,\"vulns\":%zu}\n", now_s() - t0, cs.n);
	}
	for (long i = 0; i < runs; i++) {
		struct matcher_store_writer *w = NULL;
		char ref[37];
		size_t n;
		if (bench_truncate(pool, &d) < 0) {
			fprintf(stderr, "oval_store: truncate: %s\n", d.msg);
			goto out;
		}
		double t0 = now_s();
		if (matcher_store_writer_begin(pool, srcs[0].name, "bench", &w, &d) < 0) {
			fprintf(stderr, "oval_store: begin: %s\n", d.msg);
			goto out;
		}
		struct vuln_sink sink = matcher_store_writer_sink(w);
		if (srcs[0].parse(&srcs[0], argv[2], &sink, &d) < 0) {
			fprintf(stderr, "oval_store: parse: %s\n", d.msg);
			matcher_store_writer_abort(w);
			goto out;
		}
		n = matcher_store_writer_count(w);
		if (matcher_store_writer_commit(w, ref, &d) < 0) {
			fprintf(stderr, "oval_store: commit: %s\n", d.msg);
			goto out;
		}
		printf("{\"mode\":\"store\",\"seconds\":%.6f,\"vulns\":%zu}\n", now_s() - t0, n);
	}
	fflush(stdout);
	rc = 0;
out:
	for (size_t i = 0; i < nsrcs; i++)
		updater_src_release(&srcs[i]);
	free(srcs);
	json_decref(cfg);
	db_pool_free(pool);
	return rc;
}

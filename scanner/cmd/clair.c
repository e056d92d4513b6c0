/* bin/clair: Clair v4's server in one of its modes (combo, indexer, matcher, notifier). */
#include <curl/curl.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scanner/app/app.h"
#include "scanner/app/flags.h"
#include "scanner/config/config.h"

int main(int argc, char **argv)
{
	struct app_flags fl;
	struct clair_config cfg;
	struct diag d = {{0}};
	struct app *a = NULL;
	int r, sig;

	if (app_flags_parse(argc, argv, &fl, &d) < 0) {
		fprintf(stderr, "clair: %s\n", d.msg);
		app_flags_usage(stderr);
		return 2;
	}
	if (fl.help) {
		app_flags_usage(stdout);
		return 0;
	}
	if (fl.cpuprofile || fl.memprofile)
		log_warn("clair", "profiling flags are accepted for compatibility and ignored", NULL);

	/* Large buffers (reports, layer files) always come from mmap: with glibc's dynamic threshold
	 * they came from the heap after the first free, and every such allocation consolidated the
	 * many small chunks JSON handling leaves (half of a busy report server's CPU). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);

	/* Signals are blocked before any thread starts, so only app_wait_signal() sees them; and
	 * libcurl is initialized once, before any thread may use it. */
	app_signals_block();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "clair: could not initialize libcurl\n");
		return 1;
	}

	struct config_load_opts lo = {.mode = fl.mode, .strict = fl.strict};
	r = config_load(fl.conf, &lo, &cfg, &d);
	if (r < 0) {
		fprintf(stderr, "clair: %s\n", d.msg);
		log_error("config", "invalid configuration", "{s:s,s:s}", "file", fl.conf, "error", d.msg);
		return 2;
	}
	log_set_level(cfg.log_level_value);
	log_info("clair", "starting", "{s:s,s:s}", "mode", config_mode_name(cfg.mode), "config", fl.conf);

	r = app_start(&cfg, &a, &d);
	if (r < 0) {
		log_error("clair", "could not start", "{s:s}", "error", d.msg);
		config_release(&cfg);
		return 1;
	}
	sig = app_wait_signal();
	log_info("clair", "shutting down", "{s:i,s:i}", "signal", sig, "grace_ms", 10000);
	r = app_stop(a, 10000);
	if (r == -ETIMEDOUT)
		log_warn("clair", "in-flight requests did not finish within the grace period", NULL);
	app_free(a);
	config_release(&cfg);
	log_info("clair", "stopped", NULL);
	log_ctx_clear();
	curl_global_cleanup();
	return 0;
}

/* testlib: helpers shared by the tests (never linked into the product).
 * Environment set by hack/run-tests.sh: PG_DSN, PG_DIR, CLAIR_BIN_DIR, SRC_DIR, SHARED_DIR,
 * TEST_TMPDIR. */
#ifndef TESTLIB_TESTLIB_H
#define TESTLIB_TESTLIB_H

#include <stddef.h>
#include <sys/types.h>

/* printf into a new heap string; aborts on failure (tests only). */
char *tl_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* getenv() or NULL when unset or empty. */
const char *tl_env(const char *name);
/* A fresh directory under TEST_TMPDIR (or /tmp); caller frees the string. */
char *tl_mkdtemp(void);
/* Writes text to dir/name; returns the heap path. */
char *tl_write_file(const char *dir, const char *name, const char *text);
/* A free TCP port on 127.0.0.1. */
int tl_free_port(void);
/* Path of a product binary: $CLAIR_BIN_DIR/name (heap). */
char *tl_bin(const char *name);

struct tl_proc {
	pid_t pid;
	char *log_path; /* stdout+stderr of the child */
};
/* Starts argv[0] with argv and extra environment entries ("K=V", NULL-terminated, may be NULL);
 * stdout and stderr go to a log file. Returns 0 or -errno. */
int tl_spawn(struct tl_proc *p, char *const argv[], char *const envp_extra[]);
/* Sends sig and waits up to timeout_ms; returns the exit status as from waitpid (or -1). */
int tl_stop(struct tl_proc *p, int sig, int timeout_ms);
/* Waits for the child to exit on its own; returns its exit code, 128+signal, or -1 on timeout. */
int tl_wait_exit(struct tl_proc *p, int timeout_ms);
/* Reads the whole log (heap). */
char *tl_proc_log(const struct tl_proc *p);
void tl_proc_release(struct tl_proc *p);

struct tl_resp {
	long status;
	char *body;
	size_t body_len;
	char *headers; /* raw header block of the final response */
};
/* One HTTP request with libcurl. headers: NULL-terminated "Name: value" list or NULL.
 * body may be NULL. Returns 0 on a completed exchange, -1 on a transport error. */
int tl_http(const char *method, const char *url, const char *const headers[], const char *body,
	    size_t body_len, struct tl_resp *ret);
/* Value of a response header (case-insensitive name), heap copy or NULL. */
char *tl_resp_header(const struct tl_resp *r, const char *name);
void tl_resp_release(struct tl_resp *r);
/* Polls url until it answers with want_status or timeout; returns 0 when it did. */
int tl_wait_http(const char *url, long want_status, int timeout_ms);

#endif

/* log: one JSON object per line on stderr.
 *
 *   {"time":"2026-11-23T13:45:11.123Z","level":"info","component":"db","msg":"connected",
 *    "request_id":"...", <fields>}
 *
 * Fields are given as a jansson json_pack() format and its arguments, or NULL:
 *   log_info("db", "connected", "{s:s,s:i}", "host", host, "port", port);
 * Context fields set with log_ctx_set() on a thread appear on every line that thread logs.
 * Field values whose key looks secret (password, psk, key, token, secret, authorization) are
 * replaced by "REDACTED"; keys named connstring/dsn have their password part masked. */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stddef.h>
#include <stdio.h>

enum log_level {
	LOG_DEBUG = 0,
	LOG_INFO = 1,
	LOG_WARN = 2,
	LOG_ERROR = 3,
	LOG_OFF = 4,
};

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Accepts Clair's log_level values (case-insensitive): debug-color, debug, info, warn,
 * error, fatal, panic, and "" (info). Returns 0 or -EINVAL. */
int log_parse_level(const char *s, enum log_level *ret_lvl);
int log_enabled(enum log_level lvl);

void log_emit(enum log_level lvl, const char *component, const char *msg, const char *fields_fmt, ...);

#define log_debug(comp, msg, ...) log_emit(LOG_DEBUG, comp, msg, __VA_ARGS__)
#define log_info(comp, msg, ...) log_emit(LOG_INFO, comp, msg, __VA_ARGS__)
#define log_warn(comp, msg, ...) log_emit(LOG_WARN, comp, msg, __VA_ARGS__)
#define log_error(comp, msg, ...) log_emit(LOG_ERROR, comp, msg, __VA_ARGS__)

/* Thread-local context fields (string values), inherited by every line of this thread.
 * log_ctx_set(key, NULL) removes one; removing the last frees the context. */
void log_ctx_set(const char *key, const char *value);
void log_ctx_clear(void);

/* Copies a libpq DSN ("k=v ..." or postgres:// URL) to out with any password masked. */
void log_redact_dsn(const char *dsn, char *out, size_t outlen);

/* Redirect output (tests); NULL restores stderr. */
void log_set_stream(FILE *f);

#endif

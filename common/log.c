#include "common/log.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum log_level g_level = LOG_INFO;
static FILE *g_stream;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local json_t *t_ctx;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void log_set_level(enum log_level lvl)
{
	g_level = lvl;
}

enum log_level log_get_level(void)
{
	return g_level;
}

int log_enabled(enum log_level lvl)
{
	return lvl >= g_level;
}

int log_parse_level(const char *s, enum log_level *ret_lvl)
{
	static const struct {
		const char *name;
		enum log_level lvl;
	} tab[] = {
		{"", LOG_INFO},	      {"info", LOG_INFO},   {"debug", LOG_DEBUG}, {"debug-color", LOG_DEBUG},
		{"warn", LOG_WARN},   {"error", LOG_ERROR}, {"fatal", LOG_ERROR}, {"panic", LOG_ERROR},
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strcasecmp(s, tab[i].name) == 0) {
			*ret_lvl = tab[i].lvl;
			return 0;
		}
	}
	return -EINVAL;
}

void log_set_stream(FILE *f)
{
	g_stream = f;
}

void log_ctx_set(const char *key, const char *value)
{
	if (!t_ctx)
		t_ctx = json_object();
	if (!t_ctx)
		return;
	if (value) {
		json_object_set_new(t_ctx, key, json_string(value));
	} else {
		json_object_del(t_ctx, key);
		/* an empty context is freed: worker threads set and clear fields per request and
		 * must not leave the object behind when they exit */
		if (json_object_size(t_ctx) == 0)
			log_ctx_clear();
	}
}

void log_ctx_clear(void)
{
	json_decref(t_ctx);
	t_ctx = NULL;
}

static int key_is_secret(const char *k)
{
	static const char *const words[] = {"password", "passwd", "psk", "secret", "token", "authorization", "passcode"};
	if (strcasecmp(k, "key") == 0)
		return 1;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(k, words[i]))
			return 1;
	return 0;
}

static int key_is_dsn(const char *k)
{
	return strcasecmp(k, "connstring") == 0 || strcasecmp(k, "dsn") == 0 || strcasecmp(k, "conninfo") == 0;
}

void log_redact_dsn(const char *dsn, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = dsn;

	if (!outlen)
		return;
	/* the argument is always evaluated (it advances p), even when out is full */
#define PUT(c)                              \
	do {                                \
		char c_ = (c);              \
		if (o + 1 < outlen)         \
			out[o++] = c_;      \
	} while (0)
	if (strncmp(dsn, "postgres://", 11) == 0 || strncmp(dsn, "postgresql://", 13) == 0) {
		const char *scheme_end = strstr(dsn, "://") + 3;
		const char *at = strchr(scheme_end, '@');
		const char *slash = strchr(scheme_end, '/');
		const char *colon = strchr(scheme_end, ':');
		while (p < scheme_end)
			PUT(*p++);
		if (at && (!slash || at < slash) && colon && colon < at) {
			while (p < colon)
				PUT(*p++);
			for (const char *m = ":REDACTED"; *m; m++)
				PUT(*m);
			p = at;
		}
		/* password=... in the query string */
		while (*p) {
			if ((p[-1] == '?' || p[-1] == '&') && strncasecmp(p, "password=", 9) == 0) {
				for (const char *m = "password=REDACTED"; *m; m++)
					PUT(*m);
				p += 9;
				while (*p && *p != '&')
					p++;
				continue;
			}
			PUT(*p++);
		}
		out[o] = '\0';
		return;
	}
	while (*p) {
		const char *start = p;
		while (*p == ' ' || *p == '\t')
			PUT(*p++);
		start = p;
		if (strncasecmp(p, "password", 8) == 0) {
			const char *q = p + 8;
			while (*q == ' ')
				q++;
			if (*q == '=') {
				q++;
				while (*q == ' ')
					q++;
				for (const char *m = "password=REDACTED"; *m; m++)
					PUT(*m);
				if (*q == '\'') {
					q++;
					while (*q && *q != '\'') {
						if (*q == '\\' && q[1])
							q++;
						q++;
					}
					if (*q)
						q++;
				} else {
					while (*q && *q != ' ' && *q != '\t')
						q++;
				}
				p = q;
				continue;
			}
		}
		while (*p && *p != ' ' && *p != '\t') {
			if (*p == '\'') {
				PUT(*p++);
				while (*p && *p != '\'') {
					if (*p == '\\' && p[1])
						PUT(*p++);
					PUT(*p++);
				}
				if (*p)
					PUT(*p++);
				continue;
			}
			PUT(*p++);
		}
		(void)start;
	}
#undef PUT
	out[o] = '\0';
}

static void sanitize_fields(json_t *obj)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v)
	{
		if (json_is_string(v) && key_is_dsn(k)) {
			char red[1024];
			log_redact_dsn(json_string_value(v), red, sizeof(red));
			json_object_set_new(obj, k, json_string(red));
		} else if (key_is_secret(k) && !json_is_null(v) && !json_is_boolean(v)) {
			json_object_set_new(obj, k, json_string("REDACTED"));
		} else if (json_is_object(v)) {
			sanitize_fields(v);
		}
	}
}

void log_emit(enum log_level lvl, const char *component, const char *msg, const char *fields_fmt, ...)
{
	char ts[40];
	struct timespec now;
	struct tm tm;
	json_t *line, *fields = NULL;
	char *text;
	FILE *out;

	if (!log_enabled(lvl) || lvl >= LOG_OFF)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);

	line = json_object();
	if (!line)
		return;
	json_object_set_new(line, "time", json_string(ts));
	json_object_set_new(line, "level", json_string(level_names[lvl]));
	json_object_set_new(line, "component", json_string(component ? component : ""));
	json_object_set_new(line, "msg", json_string(msg ? msg : ""));
	if (t_ctx)
		json_object_update_missing(line, t_ctx);
	if (fields_fmt) {
		va_list ap;
		json_error_t err;
		va_start(ap, fields_fmt);
		fields = json_vpack_ex(&err, 0, fields_fmt, ap);
		va_end(ap);
		if (fields && json_is_object(fields)) {
			sanitize_fields(fields);
			json_object_update_missing(line, fields);
		} else if (!fields) {
			json_object_set_new(line, "log_error", json_string(err.text));
		}
		json_decref(fields);
	}
	text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	if (!text)
		return;
	out = g_stream ? g_stream : stderr;
	pthread_mutex_lock(&g_lock);
	fputs(text, out);
	fputc('\n', out);
	fflush(out);
	pthread_mutex_unlock(&g_lock);
	free(text);
}

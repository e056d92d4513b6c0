/* config: schema-driven decoding of Clair's configuration, defaults and validation
 * (quay/clair:config/ Go sources as summarised in clair-spec.md §1), and the effective-config encoder. */
#include "scanner/config/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "scanner/config/config_int.h"

/* ---- schema ---- */

enum ftype { F_OBJ, F_STR, F_BOOL, F_INT, F_DUR, F_FLOAT, F_STRLIST, F_JSON, F_HEADERS };

enum {
	FL_SECRET = 1,	   /* redacted in config_to_json */
	FL_DSN = 2,	   /* password masked in config_to_json */
	FL_DEPRECATED = 4, /* info log when present */
};

#define NOSET SIZE_MAX

struct field {
	const char *name;
	enum ftype type;
	size_t off;	/* of the value, relative to the parent struct; NOSET: check only */
	size_t set_off; /* of a bool set when the key is present; NOSET: none */
	const struct field *sub;
	unsigned flags;
	const char *note; /* deprecation note */
};

#define FLD(name, type, st, member) {name, type, offsetof(st, member), NOSET, NULL, 0, NULL}
#define FLDF(name, type, st, member, fl) {name, type, offsetof(st, member), NOSET, NULL, fl, NULL}
#define FOBJ(name, st, member, sub) {name, F_OBJ, offsetof(st, member), NOSET, sub, 0, NULL}
#define FOBJS(name, st, member, sub) {name, F_OBJ, offsetof(st, member), offsetof(st, member.set), sub, 0, NULL}
#define FEND {NULL, F_OBJ, 0, NOSET, NULL, 0, NULL}

static const struct field tls_fields[] = {
	{"root_ca", F_STR, offsetof(struct config_tls, root_ca), NOSET, NULL, 0, NULL},
	FLD("cert", F_STR, struct config_tls, cert),
	FLD("key", F_STR, struct config_tls, key),
	FEND,
};

static const struct field top_tls_fields[] = {
	{"root_ca", F_STR, offsetof(struct config_tls, root_ca), NOSET, NULL, FL_DEPRECATED,
	 "tls.root_ca is deprecated and ignored"},
	FLD("cert", F_STR, struct config_tls, cert),
	FLD("key", F_STR, struct config_tls, key),
	FEND,
};

static const struct field scanner_fields[] = {
	{"package", F_JSON, NOSET, NOSET, NULL, 0, NULL},
	{"dist", F_JSON, NOSET, NOSET, NULL, 0, NULL},
	{"repo", F_JSON, NOSET, NOSET, NULL, 0, NULL},
	FEND,
};

static const struct field indexer_fields[] = {
	FLDF("connstring", F_STR, struct config_indexer, connstring, FL_DSN),
	FLD("scanlock_retry", F_INT, struct config_indexer, scanlock_retry),
	FLD("layer_scan_concurrency", F_INT, struct config_indexer, layer_scan_concurrency),
	FLD("index_report_request_concurrency", F_INT, struct config_indexer, index_report_request_concurrency),
	FLD("migrations", F_BOOL, struct config_indexer, migrations),
	FLD("airgap", F_BOOL, struct config_indexer, airgap),
	{"scanner", F_JSON, offsetof(struct config_indexer, scanner), NOSET, scanner_fields, 0, NULL},
	FEND,
};

static const struct field matcher_fields[] = {
	FLDF("connstring", F_STR, struct config_matcher, connstring, FL_DSN),
	FLD("indexer_addr", F_STR, struct config_matcher, indexer_addr),
	FLD("period", F_DUR, struct config_matcher, period),
	FLD("update_retention", F_INT, struct config_matcher, update_retention),
	FLD("cache_age", F_DUR, struct config_matcher, cache_age),
	{"max_conn_pool", F_INT, offsetof(struct config_matcher, max_conn_pool), NOSET, NULL, FL_DEPRECATED,
	 "matcher.max_conn_pool is deprecated and will be ignored; use pool_max_conns in the connstring"},
	FLD("migrations", F_BOOL, struct config_matcher, migrations),
	FLD("disable_updaters", F_BOOL, struct config_matcher, disable_updaters),
	FLD("disable_enrichment", F_BOOL, struct config_matcher, disable_enrichment),
	FEND,
};

static const struct field matchers_fields[] = {
	FLD("names", F_STRLIST, struct config_matchers, names),
	FLD("config", F_JSON, struct config_matchers, config),
	FEND,
};

static const struct field updaters_fields[] = {
	FLD("sets", F_STRLIST, struct config_updaters, sets),
	FLD("config", F_JSON, struct config_updaters, config),
	FLD("filter", F_STR, struct config_updaters, filter),
	FEND,
};

static const struct field webhook_fields[] = {
	FLD("target", F_STR, struct config_webhook, target),
	FLD("callback", F_STR, struct config_webhook, callback),
	FLD("headers", F_HEADERS, struct config_webhook, headers),
	{"signed", F_BOOL, offsetof(struct config_webhook, signed_), NOSET, NULL, FL_DEPRECATED,
	 "notifier.webhook.signed is deprecated and ignored"},
	FEND,
};

static const struct field exchange_fields[] = {
	FLD("name", F_STR, struct config_amqp_exchange, name),
	FLD("type", F_STR, struct config_amqp_exchange, type),
	FLD("durability", F_BOOL, struct config_amqp_exchange, durability),
	FLD("auto_delete", F_BOOL, struct config_amqp_exchange, auto_delete),
	FEND,
};

static const struct field amqp_fields[] = {
	FOBJ("exchange", struct config_amqp, exchange, exchange_fields),
	FLD("routing_key", F_STR, struct config_amqp, routing_key),
	FLD("uris", F_STRLIST, struct config_amqp, uris),
	FLD("direct", F_BOOL, struct config_amqp, direct),
	FLD("rollup", F_INT, struct config_amqp, rollup),
	FLD("callback", F_STR, struct config_amqp, callback),
	FOBJS("tls", struct config_amqp, tls, tls_fields),
	FEND,
};

static const struct field stomp_user_fields[] = {
	FLD("login", F_STR, struct config_stomp_user, login),
	FLDF("passcode", F_STR, struct config_stomp_user, passcode, FL_SECRET),
	FEND,
};

static const struct field stomp_fields[] = {
	FLD("destination", F_STR, struct config_stomp, destination),
	FLD("uris", F_STRLIST, struct config_stomp, uris),
	FLD("direct", F_BOOL, struct config_stomp, direct),
	FLD("rollup", F_INT, struct config_stomp, rollup),
	FLD("callback", F_STR, struct config_stomp, callback),
	FOBJ("user", struct config_stomp, user, stomp_user_fields),
	FOBJS("tls", struct config_stomp, tls, tls_fields),
	FEND,
};

static const struct field notifier_fields[] = {
	FLDF("connstring", F_STR, struct config_notifier, connstring, FL_DSN),
	FLD("indexer_addr", F_STR, struct config_notifier, indexer_addr),
	FLD("matcher_addr", F_STR, struct config_notifier, matcher_addr),
	FLD("poll_interval", F_DUR, struct config_notifier, poll_interval),
	FLD("delivery_interval", F_DUR, struct config_notifier, delivery_interval),
	FLD("disable_summary", F_BOOL, struct config_notifier, disable_summary),
	FLD("migrations", F_BOOL, struct config_notifier, migrations),
	FOBJS("webhook", struct config_notifier, webhook, webhook_fields),
	FOBJS("amqp", struct config_notifier, amqp, amqp_fields),
	FOBJS("stomp", struct config_notifier, stomp, stomp_fields),
	FEND,
};

static const struct field psk_fields[] = {
	FLDF("key", F_STR, struct config_psk, key, FL_SECRET),
	FLD("iss", F_STRLIST, struct config_psk, iss),
	FEND,
};

static const struct field keyserver_fields[] = {
	FLD("api", F_STR, struct config_keyserver, api),
	FLDF("intraservice", F_STR, struct config_keyserver, intraservice, FL_SECRET),
	FEND,
};

static const struct field auth_fields[] = {
	FOBJS("psk", struct config_auth, psk, psk_fields),
	FOBJS("keyserver", struct config_auth, keyserver, keyserver_fields),
	FEND,
};

static const struct field otlp_http_fields[] = {
	FLD("endpoint", F_STR, struct config_otlp_http, endpoint),
	FLD("url_path", F_STR, struct config_otlp_http, url_path),
	FLD("compression", F_STR, struct config_otlp_http, compression),
	FLD("headers", F_JSON, struct config_otlp_http, headers),
	FLD("insecure", F_BOOL, struct config_otlp_http, insecure),
	FLD("timeout", F_DUR, struct config_otlp_http, timeout),
	FOBJS("client_tls", struct config_otlp_http, client_tls, tls_fields),
	FEND,
};

static const struct field otlp_grpc_fields[] = {
	FLD("endpoint", F_STR, struct config_otlp_grpc, endpoint),
	FLD("reconnect", F_DUR, struct config_otlp_grpc, reconnect),
	FLD("service_config", F_STR, struct config_otlp_grpc, service_config),
	FLD("compression", F_STR, struct config_otlp_grpc, compression),
	FLD("headers", F_JSON, struct config_otlp_grpc, headers),
	FLD("insecure", F_BOOL, struct config_otlp_grpc, insecure),
	FLD("timeout", F_DUR, struct config_otlp_grpc, timeout),
	FOBJS("client_tls", struct config_otlp_grpc, client_tls, tls_fields),
	FEND,
};

static const struct field otlp_fields[] = {
	FOBJS("http", struct config_otlp, http, otlp_http_fields),
	FOBJS("grpc", struct config_otlp, grpc, otlp_grpc_fields),
	FEND,
};

static const struct field jaeger_agent_fields[] = {
	FLD("endpoint", F_STR, struct config_jaeger, agent_endpoint),
	FEND,
};

static const struct field jaeger_collector_fields[] = {
	FLD("endpoint", F_STR, struct config_jaeger, collector_endpoint),
	FLD("username", F_STR, struct config_jaeger, collector_username),
	FLDF("password", F_STR, struct config_jaeger, collector_password, FL_SECRET),
	FEND,
};

static const struct field jaeger_fields[] = {
	{"agent", F_OBJ, 0, NOSET, jaeger_agent_fields, 0, NULL},
	{"collector", F_OBJ, 0, NOSET, jaeger_collector_fields, 0, NULL},
	FLD("service_name", F_STR, struct config_jaeger, service_name),
	FLD("tags", F_JSON, struct config_jaeger, tags),
	FLD("buffer_max", F_INT, struct config_jaeger, buffer_max),
	FEND,
};

static const struct field sentry_fields[] = {
	FLDF("dsn", F_STR, struct config_sentry, dsn, FL_SECRET),
	FLD("environment", F_STR, struct config_sentry, environment),
	FEND,
};

static const struct field trace_fields[] = {
	FLD("name", F_STR, struct config_trace, name),
	{"probability", F_FLOAT, offsetof(struct config_trace, probability), offsetof(struct config_trace, probability_set),
	 NULL, 0, NULL},
	FOBJS("jaeger", struct config_trace, jaeger, jaeger_fields),
	FOBJS("otlp", struct config_trace, otlp, otlp_fields),
	FOBJS("sentry", struct config_trace, sentry, sentry_fields),
	FEND,
};

static const struct field prometheus_fields[] = {
	FLD("endpoint", F_STR, struct config_metrics, prometheus_endpoint),
	FEND,
};

static const struct field metrics_fields[] = {
	FLD("name", F_STR, struct config_metrics, name),
	{"prometheus", F_OBJ, 0, NOSET, prometheus_fields, 0, NULL},
	FOBJS("otlp", struct config_metrics, otlp, otlp_fields),
	FEND,
};

static const struct field root_fields[] = {
	FLD("http_listen_addr", F_STR, struct clair_config, http_listen_addr),
	FLD("introspection_addr", F_STR, struct clair_config, introspection_addr),
	FLD("log_level", F_STR, struct clair_config, log_level),
	{"tls", F_OBJ, offsetof(struct clair_config, tls), offsetof(struct clair_config, tls.set), top_tls_fields, 0,
	 NULL},
	FOBJ("indexer", struct clair_config, indexer, indexer_fields),
	FOBJ("matcher", struct clair_config, matcher, matcher_fields),
	FOBJ("matchers", struct clair_config, matchers, matchers_fields),
	FOBJ("updaters", struct clair_config, updaters, updaters_fields),
	FOBJ("notifier", struct clair_config, notifier, notifier_fields),
	FOBJ("auth", struct clair_config, auth, auth_fields),
	FOBJ("trace", struct clair_config, trace, trace_fields),
	FOBJ("metrics", struct clair_config, metrics, metrics_fields),
	FEND,
};

/* Keys seen in real configs that Clair v4 does not (or no longer) accept. */
static const struct {
	const char *path;
	const char *hint;
} retired_keys[] = {
	{"matcher.run", "not a Clair v4 key (3.4-era sample)"},
	{"matcher.updater_sets", "moved to updaters.sets"},
	{"trace.jaeger.agent_endpoint", "the Clair v4 key is trace.jaeger.agent.endpoint"},
	{"metrics.dogstatsd", "dogstatsd metrics were removed in Clair v4"},
	{"notifier.delivery", "did you mean notifier.delivery_interval?"},
	{"notifier.amqp.exchange.durable", "the Clair v4 key is notifier.amqp.exchange.durability"},
	{"notifier.stomp.login", "the Clair v4 key is notifier.stomp.user"},
};

/* ---- load context ---- */

struct loadctx {
	const struct config_load_opts *opts;
	struct config_doc doc;
	struct diag *d;
	const char *file; /* the main file */
};

static int lc_fail(struct loadctx *lc, int err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int lc_fail(struct loadctx *lc, int err, const char *path, const char *fmt, ...)
{
	char why[DIAG_MAX];
	const char *file;
	int line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	config_doc_where(&lc->doc, path, &file, &line);
	if (!file[0])
		file = lc->file;
	diag_set(lc->d, "%s:%d: %s: %s", file, line, path, why);
	return err;
}

static void lc_log(struct loadctx *lc, enum log_level lvl, const char *path, const char *msg, const char *hint)
{
	const char *file;
	int line;
	config_doc_where(&lc->doc, path, &file, &line);
	if (hint)
		log_emit(lvl, "config", msg, "{s:s,s:s,s:i,s:s}", "path", path, "file", file, "line", line, "hint", hint);
	else
		log_emit(lvl, "config", msg, "{s:s,s:s,s:i}", "path", path, "file", file, "line", line);
}

static void lc_warn(struct loadctx *lc, const char *path, const char *msg, const char *hint)
{
	lc_log(lc, LOG_WARN, path, msg, hint);
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "list";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	default:
		return "null";
	}
}

static int unknown_key(struct loadctx *lc, const char *path)
{
	const char *hint = NULL;
	for (size_t i = 0; i < sizeof(retired_keys) / sizeof(retired_keys[0]); i++)
		if (!strcmp(retired_keys[i].path, path))
			hint = retired_keys[i].hint;
	if (lc->opts->strict) {
		if (hint)
			return lc_fail(lc, -EINVAL, path, "unknown configuration key (%s)", hint);
		return lc_fail(lc, -EINVAL, path, "unknown configuration key");
	}
	lc_warn(lc, path, hint ? "retired configuration key ignored" : "unknown configuration key ignored", hint);
	return 0;
}

static int strlist_from_json(struct config_strlist *l, json_t *arr)
{
	size_t i;
	json_t *v;
	size_t n = json_array_size(arr);

	l->set = true;
	l->n = 0;
	l->v = calloc(n ? n : 1, sizeof(char *));
	if (!l->v)
		return -ENOMEM;
	json_array_foreach(arr, i, v)
	{
		l->v[i] = strdup(json_string_value(v));
		if (!l->v[i])
			return -ENOMEM;
		l->n = i + 1;
	}
	return 0;
}

static void strlist_release(struct config_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
	l->set = false;
}

static int strlist_check(struct loadctx *lc, const char *path, json_t *arr)
{
	size_t i;
	json_t *v;
	if (!json_is_array(arr))
		return lc_fail(lc, -EINVAL, path, "expected a list of strings, got %s", json_type_name(arr));
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			return lc_fail(lc, -EINVAL, path, "item %zu: expected a string, got %s", i, json_type_name(v));
	}
	return 0;
}

static int decode_obj(struct loadctx *lc, const struct field *fields, void *base, json_t *obj, const char *path);

static int decode_field(struct loadctx *lc, const struct field *f, void *base, json_t *v, const char *path)
{
	char *p = base && f->off != NOSET ? (char *)base + f->off : NULL;
	int r;

	if (json_is_null(v))
		return 0; /* like Go: null leaves the zero value */
	if (f->flags & FL_DEPRECATED)
		lc_log(lc, LOG_INFO, path, "deprecated configuration key", f->note);
	switch (f->type) {
	case F_OBJ:
		if (!json_is_object(v))
			return lc_fail(lc, -EINVAL, path, "expected an object, got %s", json_type_name(v));
		if (base && f->set_off != NOSET)
			*(bool *)((char *)base + f->set_off) = true;
		return decode_obj(lc, f->sub, p, v, path);
	case F_STR:
		if (!json_is_string(v))
			return lc_fail(lc, -EINVAL, path, "expected a string, got %s", json_type_name(v));
		if (p) {
			char **s = (char **)p;
			free(*s);
			*s = strdup(json_string_value(v));
			if (!*s)
				return -ENOMEM;
		}
		return 0;
	case F_BOOL:
		if (!json_is_boolean(v))
			return lc_fail(lc, -EINVAL, path, "expected true or false, got %s", json_type_name(v));
		if (p)
			*(bool *)p = json_is_true(v);
		return 0;
	case F_INT:
		if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX)
			return lc_fail(lc, -EINVAL, path, "expected an integer, got %s", json_type_name(v));
		if (p)
			*(int *)p = (int)json_integer_value(v);
		return 0;
	case F_DUR: {
		int64_t ns;
		if (!json_is_string(v))
			return lc_fail(lc, -EINVAL, path, "invalid duration: expected a string like \"5m\", got %s",
				       json_type_name(v));
		if (config_parse_duration(json_string_value(v), &ns) < 0)
			return lc_fail(lc, -EINVAL, path, "invalid duration \"%s\"", json_string_value(v));
		if (p)
			*(int64_t *)p = ns;
		return 0;
	}
	case F_FLOAT:
		if (!json_is_number(v))
			return lc_fail(lc, -EINVAL, path, "expected a number, got %s", json_type_name(v));
		if (p)
			*(double *)p = json_number_value(v);
		if (base && f->set_off != NOSET)
			*(bool *)((char *)base + f->set_off) = true;
		return 0;
	case F_STRLIST:
		r = strlist_check(lc, path, v);
		if (r < 0)
			return r;
		if (p) {
			strlist_release((struct config_strlist *)p);
			return strlist_from_json((struct config_strlist *)p, v);
		}
		return 0;
	case F_JSON:
		if (f->sub) {
			if (!json_is_object(v))
				return lc_fail(lc, -EINVAL, path, "expected an object, got %s", json_type_name(v));
			r = decode_obj(lc, f->sub, NULL, v, path);
			if (r < 0)
				return r;
		}
		if (p) {
			json_t **j = (json_t **)p;
			json_decref(*j);
			*j = json_incref(v);
		}
		return 0;
	case F_HEADERS: {
		const char *k;
		json_t *hv;
		struct config_headers *h = (struct config_headers *)p;
		size_t n = 0;
		if (!json_is_object(v))
			return lc_fail(lc, -EINVAL, path, "expected a map of header name to list of values, got %s",
				       json_type_name(v));
		json_object_foreach(v, k, hv)
		{
			struct buf hp = BUF_INIT;
			buf_printf(&hp, "%s.%s", path, k);
			r = strlist_check(lc, hp.data ? hp.data : path, hv);
			buf_release(&hp);
			if (r < 0)
				return r;
		}
		if (!h)
			return 0;
		h->v = calloc(json_object_size(v) + 1, sizeof(*h->v));
		if (!h->v)
			return -ENOMEM;
		json_object_foreach(v, k, hv)
		{
			h->v[n].name = strdup(k);
			h->n = ++n;
			if (!h->v[n - 1].name || strlist_from_json(&h->v[n - 1].values, hv) < 0)
				return -ENOMEM;
		}
		return 0;
	}
	}
	return 0;
}

static int decode_obj(struct loadctx *lc, const struct field *fields, void *base, json_t *obj, const char *path)
{
	const char *k;
	json_t *v;
	int r = 0;
	struct buf child = BUF_INIT;

	json_object_foreach(obj, k, v)
	{
		const struct field *f = NULL;
		for (const struct field *it = fields; it->name; it++)
			if (!strcmp(it->name, k)) {
				f = it;
				break;
			}
		buf_reset(&child);
		if ((path[0] ? buf_printf(&child, "%s.%s", path, k) : buf_puts(&child, k)) < 0) {
			r = -ENOMEM;
			break;
		}
		if (!f)
			r = unknown_key(lc, child.data);
		else
			r = decode_field(lc, f, base, v, child.data);
		if (r < 0)
			break;
	}
	buf_release(&child);
	return r;
}

/* ---- release ---- */

static void release_obj(const struct field *fields, void *base)
{
	for (const struct field *f = fields; f->name; f++) {
		char *p;
		if (f->off == NOSET)
			continue;
		p = (char *)base + f->off;
		switch (f->type) {
		case F_OBJ:
			release_obj(f->sub, p);
			break;
		case F_STR:
			free(*(char **)p);
			*(char **)p = NULL;
			break;
		case F_STRLIST:
			strlist_release((struct config_strlist *)p);
			break;
		case F_JSON:
			json_decref(*(json_t **)p);
			*(json_t **)p = NULL;
			break;
		case F_HEADERS: {
			struct config_headers *h = (struct config_headers *)p;
			for (size_t i = 0; i < h->n; i++) {
				free(h->v[i].name);
				strlist_release(&h->v[i].values);
			}
			free(h->v);
			h->v = NULL;
			h->n = 0;
			break;
		}
		default:
			break;
		}
	}
}

void config_release(struct clair_config *c)
{
	if (!c)
		return;
	release_obj(root_fields, c);
	free(c->auth.psk.key_bytes);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

/* ---- value checks (Go net.SplitHostPort, url.Parse) ---- */

static const char *check_host_port(const char *s)
{
	const char *colon = strrchr(s, ':');
	if (!colon)
		return "missing port in address";
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end)
			return "missing ']' in address";
		if (end[1] == '\0')
			return "missing port in address";
		if (end + 1 != colon)
			return end[1] == ':' ? "too many colons in address" : "missing port in address";
		if (strchr(s + 1, '[') || strchr(end + 1, ']'))
			return "unexpected '[' or ']' in address";
		return NULL;
	}
	for (const char *p = s; p < colon; p++) {
		if (*p == ':')
			return "too many colons in address";
		if (*p == '[' || *p == ']')
			return "unexpected '[' or ']' in address";
	}
	if (strchr(colon, ']'))
		return "unexpected ']' in address";
	return NULL;
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static const char *check_url(const char *s)
{
	size_t i;
	const char *rest = s;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "invalid control character in URL";
	for (const char *p = s; *p; p++)
		if (*p == '%' && !(is_hex(p[1]) && is_hex(p[2])))
			return "invalid URL escape";
	for (i = 0; s[i]; i++) {
		char c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			continue;
		if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
			if (i == 0)
				break;
			continue;
		}
		if (c == ':') {
			if (i == 0)
				return "missing protocol scheme";
			rest = s + i + 1;
		}
		break;
	}
	if (rest == s) {
		/* no scheme: the first path segment must not contain a colon */
		size_t seg = strcspn(s, "/?#");
		if (memchr(s, ':', seg))
			return "first path segment in URL cannot contain colon";
		return NULL;
	}
	if (rest[0] == '/' && rest[1] == '/') {
		const char *a = rest + 2;
		size_t alen = strcspn(a, "/?#");
		const char *at = NULL, *host, *end = a + alen, *pc;
		for (const char *p = a; p < end; p++)
			if (*p == '@')
				at = p;
		host = at ? at + 1 : a;
		if (*host == '[') {
			const char *rb = memchr(host, ']', (size_t)(end - host));
			if (!rb)
				return "missing ']' in host";
			pc = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		} else {
			pc = memchr(host, ':', (size_t)(end - host));
		}
		if (pc)
			for (const char *p = pc + 1; p < end; p++)
				if (*p < '0' || *p > '9')
					return "invalid port after host";
	}
	return NULL;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Standard base64 with padding (Go base64.StdEncoding; \r and \n are skipped). */
static int b64_decode(const char *s, unsigned char **ret, size_t *ret_len)
{
	size_t n = strlen(s), o = 0, q = 0;
	unsigned char quad[4];
	unsigned char *out = malloc(n / 4 * 3 + 3);
	int pad = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n')
			continue;
		if (pad && c != '=')
			goto bad;
		if (c == '=') {
			if (q < 2)
				goto bad;
			pad++;
			quad[q++] = 0;
		} else {
			int v = b64val(c);
			if (v < 0)
				goto bad;
			quad[q++] = (unsigned char)v;
		}
		if (q == 4) {
			out[o++] = (unsigned char)(quad[0] << 2 | quad[1] >> 4);
			if (pad < 2)
				out[o++] = (unsigned char)(quad[1] << 4 | quad[2] >> 2);
			if (pad < 1)
				out[o++] = (unsigned char)(quad[2] << 6 | quad[3]);
			q = 0;
			if (pad)
				pad = 3; /* nothing may follow */
		}
	}
	if (q != 0)
		goto bad;
	*ret = out;
	*ret_len = o;
	return 0;
bad:
	free(out);
	return -EINVAL;
}

/* ---- validation ---- */

static int set_default_str(char **s, const char *def)
{
	if (*s && **s)
		return 0;
	free(*s);
	*s = strdup(def);
	return *s ? 0 : -ENOMEM;
}

static int append_slash(char **s)
{
	size_t n;
	char *ns;
	if (!*s || !**s)
		return 0;
	n = strlen(*s);
	if ((*s)[n - 1] == '/')
		return 0;
	ns = realloc(*s, n + 2);
	if (!ns)
		return -ENOMEM;
	ns[n] = '/';
	ns[n + 1] = '\0';
	*s = ns;
	return 0;
}

static int check_url_field(struct loadctx *lc, const char *path, const char *v)
{
	const char *why;
	if (!v || !*v)
		return 0;
	why = check_url(v);
	if (why)
		return lc_fail(lc, -EINVAL, path, "invalid URL \"%s\": %s", v, why);
	return 0;
}

static int check_tls(struct loadctx *lc, const char *path, const struct config_tls *t, int require_pair)
{
	char p[128];
	struct stat st;
	int has_cert = t->cert && *t->cert, has_key = t->key && *t->key;
	if (!t->set)
		return 0;
	if (has_cert != has_key || (require_pair && !has_cert)) {
		snprintf(p, sizeof(p), "%s.%s", path, has_cert ? "key" : "cert");
		return lc_fail(lc, -EINVAL, p, "both cert and key must be provided");
	}
	if (has_cert && stat(t->cert, &st) < 0) {
		snprintf(p, sizeof(p), "%s.cert", path);
		return lc_fail(lc, -EINVAL, p, "\"%s\": %s", t->cert, strerror(errno));
	}
	if (has_key && stat(t->key, &st) < 0) {
		snprintf(p, sizeof(p), "%s.key", path);
		return lc_fail(lc, -EINVAL, p, "\"%s\": %s", t->key, strerror(errno));
	}
	return 0;
}

static int validate_indexer(struct loadctx *lc, struct config_indexer *ix)
{
	(void)lc;
	if (ix->scanlock_retry == 0)
		ix->scanlock_retry = 1;
	else if (ix->scanlock_retry > 10)
		log_info("config", "large values will increase latency", "{s:s,s:i}", "path", "indexer.scanlock_retry",
			 "value", ix->scanlock_retry);
	if (ix->index_report_request_concurrency == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		ix->index_report_request_concurrency = (int)(n > 0 ? n : 1) * 4;
	}
	if (ix->layer_scan_concurrency != 0 && (ix->layer_scan_concurrency < 4 || ix->layer_scan_concurrency > 32))
		log_info("config", "unusual layer_scan_concurrency", "{s:s,s:i}", "path",
			 "indexer.layer_scan_concurrency", "value", ix->layer_scan_concurrency);
	return 0;
}

static int validate_matcher(struct loadctx *lc, struct clair_config *c)
{
	struct config_matcher *m = &c->matcher;
	int r;

	if (lc->opts->mode == CLAIR_MODE_MATCHER && (!m->indexer_addr || !*m->indexer_addr))
		return lc_fail(lc, -EINVAL, "matcher.indexer_addr", "required in matcher mode");
	r = check_url_field(lc, "matcher.indexer_addr", m->indexer_addr);
	if (r < 0)
		return r;
	if (m->period == 0)
		m->period = 6 * CONFIG_HOUR;
	if (m->update_retention < 0) {
		m->update_retention = 0;
		log_warn("config", "update garbage collection is off", "{s:s}", "path", "matcher.update_retention");
	} else if (m->update_retention < 2) {
		m->update_retention = 10;
	}
	if (m->cache_age == 0)
		m->cache_age = m->period;
	if (m->disable_updaters) {
		strlist_release(&c->updaters.sets);
		c->updaters.sets.set = true;
	}
	return 0;
}

static int validate_amqp(struct loadctx *lc, struct config_amqp *a)
{
	int r;
	if (!a->set)
		return 0;
	if (!a->exchange.type || !*a->exchange.type)
		return lc_fail(lc, -EINVAL, "notifier.amqp.exchange.type", "field required");
	if (!a->routing_key || !*a->routing_key)
		return lc_fail(lc, -EINVAL, "notifier.amqp.routing_key", "field required");
	if (a->uris.n == 0)
		return lc_fail(lc, -EINVAL, "notifier.amqp.uris", "at least one URI is required");
	for (size_t i = 0; i < a->uris.n; i++) {
		char p[64];
		snprintf(p, sizeof(p), "notifier.amqp.uris[%zu]", i);
		r = check_url_field(lc, p, a->uris.v[i]);
		if (r < 0)
			return r;
	}
	r = check_url_field(lc, "notifier.amqp.callback", a->callback);
	if (r < 0)
		return r;
	if (!a->direct && (r = append_slash(&a->callback)) < 0)
		return r;
	if (a->rollup == 1)
		lc_warn(lc, "notifier.amqp.rollup", "rollup of 1 has no effect", NULL);
	if (a->direct && a->callback && *a->callback)
		lc_warn(lc, "notifier.amqp.callback", "callback is ignored in direct mode", NULL);
	return check_tls(lc, "notifier.amqp.tls", &a->tls, 1);
}

static int validate_stomp(struct loadctx *lc, struct config_stomp *s)
{
	int r;
	if (!s->set)
		return 0;
	if (s->uris.n == 0)
		return lc_fail(lc, -EINVAL, "notifier.stomp.uris", "at least one host:port is required");
	for (size_t i = 0; i < s->uris.n; i++) {
		const char *why = check_host_port(s->uris.v[i]);
		if (why) {
			char p[64];
			snprintf(p, sizeof(p), "notifier.stomp.uris[%zu]", i);
			return lc_fail(lc, -EINVAL, p, "invalid address \"%s\": %s", s->uris.v[i], why);
		}
	}
	r = check_url_field(lc, "notifier.stomp.callback", s->callback);
	if (r < 0)
		return r;
	if (!s->direct && (r = append_slash(&s->callback)) < 0)
		return r;
	if (s->rollup == 1)
		lc_warn(lc, "notifier.stomp.rollup", "rollup of 1 has no effect", NULL);
	if (s->direct && s->callback && *s->callback)
		lc_warn(lc, "notifier.stomp.callback", "callback is ignored in direct mode", NULL);
	return check_tls(lc, "notifier.stomp.tls", &s->tls, 1);
}

static int validate_notifier(struct loadctx *lc, struct clair_config *c)
{
	struct config_notifier *n = &c->notifier;
	int r, mechs;

	if (lc->opts->mode == CLAIR_MODE_NOTIFIER) {
		if (!n->indexer_addr || !*n->indexer_addr)
			return lc_fail(lc, -EINVAL, "notifier.indexer_addr", "required in notifier mode");
		if (!n->matcher_addr || !*n->matcher_addr)
			return lc_fail(lc, -EINVAL, "notifier.matcher_addr", "required in notifier mode");
	}
	if ((r = check_url_field(lc, "notifier.indexer_addr", n->indexer_addr)) < 0 ||
	    (r = check_url_field(lc, "notifier.matcher_addr", n->matcher_addr)) < 0)
		return r;
	if (n->poll_interval < CONFIG_MINUTE)
		n->poll_interval = 6 * CONFIG_HOUR;
	if (n->delivery_interval < CONFIG_MINUTE)
		n->delivery_interval = CONFIG_HOUR;
	if (n->webhook.set) {
		if ((r = check_url_field(lc, "notifier.webhook.target", n->webhook.target)) < 0 ||
		    (r = check_url_field(lc, "notifier.webhook.callback", n->webhook.callback)) < 0)
			return r;
		if ((r = append_slash(&n->webhook.callback)) < 0)
			return r;
	}
	if ((r = validate_amqp(lc, &n->amqp)) < 0 || (r = validate_stomp(lc, &n->stomp)) < 0)
		return r;
	mechs = n->webhook.set + n->amqp.set + n->stomp.set;
	if (mechs == 0 && json_object_size(json_object_get(lc->doc.root, "notifier")) > 0)
		log_warn("config", "no delivery mechanisms specified", "{s:s,s:s}", "path", "notifier", "mode",
			 config_mode_name(lc->opts->mode));
	else if (mechs > 1)
		log_warn("config", "multiple delivery mechanisms specified; using the first of webhook, amqp, stomp",
			 "{s:s}", "path", "notifier");
	if (n->disable_summary)
		log_info("config", "disable_summary may use a lot of memory", "{s:s}", "path", "notifier.disable_summary");
	return 0;
}

static int validate_auth(struct loadctx *lc, struct config_auth *a)
{
	int r;
	if (a->keyserver.set)
		return lc_fail(lc, -EINVAL, "auth.keyserver", "quay keyserver support has been removed");
	if (!a->psk.set)
		return 0;
	if (!a->psk.key || !*a->psk.key)
		return lc_fail(lc, -EINVAL, a->psk.key ? "auth.psk.key" : "auth.psk", "psk key is required");
	r = b64_decode(a->psk.key, &a->psk.key_bytes, &a->psk.key_len);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return lc_fail(lc, -EINVAL, "auth.psk.key", "key is not valid standard base64");
	if (a->psk.key_len == 0)
		return lc_fail(lc, -EINVAL, "auth.psk.key", "psk key is required");
	if (a->psk.iss.n == 0)
		return lc_fail(lc, -EINVAL, a->psk.iss.set ? "auth.psk.iss" : "auth.psk",
			       "at least one issuer (iss) is required");
	return 0;
}

static int validate_otlp(struct loadctx *lc, const char *path, struct config_otlp *o, const char *def_path)
{
	char p[96];
	int r;
	if (!o->set)
		return 0;
	if (o->http.set) {
		if ((r = set_default_str(&o->http.endpoint, "localhost:4318")) < 0 ||
		    (r = set_default_str(&o->http.url_path, def_path)) < 0)
			return r;
		if (o->http.url_path[0] != '/') {
			snprintf(p, sizeof(p), "%s.http.url_path", path);
			return lc_fail(lc, -EINVAL, p, "\"%s\" must be an absolute path", o->http.url_path);
		}
		if (o->http.compression && *o->http.compression && strcmp(o->http.compression, "gzip") &&
		    strcmp(o->http.compression, "none")) {
			snprintf(p, sizeof(p), "%s.http.compression", path);
			return lc_fail(lc, -EINVAL, p, "unknown compression \"%s\"", o->http.compression);
		}
		snprintf(p, sizeof(p), "%s.http.client_tls", path);
		if ((r = check_tls(lc, p, &o->http.client_tls, 0)) < 0)
			return r;
	}
	if (o->grpc.set) {
		if ((r = set_default_str(&o->grpc.endpoint, "localhost:4317")) < 0)
			return r;
		if (o->grpc.compression && *o->grpc.compression && strcmp(o->grpc.compression, "gzip") &&
		    strcmp(o->grpc.compression, "none")) {
			snprintf(p, sizeof(p), "%s.grpc.compression", path);
			return lc_fail(lc, -EINVAL, p, "unknown compression \"%s\"", o->grpc.compression);
		}
		snprintf(p, sizeof(p), "%s.grpc.client_tls", path);
		if ((r = check_tls(lc, p, &o->grpc.client_tls, 0)) < 0)
			return r;
	}
	return 0;
}

static int validate(struct loadctx *lc, struct clair_config *c)
{
	const char *why;
	enum clair_mode m = lc->opts->mode;
	int r;

	if ((r = set_default_str(&c->http_listen_addr, ":6060")) < 0)
		return r;
	if ((why = check_host_port(c->http_listen_addr)))
		return lc_fail(lc, -EINVAL, "http_listen_addr", "invalid address \"%s\": %s", c->http_listen_addr, why);
	if (!c->introspection_addr || !*c->introspection_addr)
		log_debug("config", "introspection address not provided, using default", "{s:s,s:s}", "path",
			 "introspection_addr", "default", ":8089");
	if ((r = set_default_str(&c->introspection_addr, ":8089")) < 0)
		return r;
	if ((why = check_host_port(c->introspection_addr)))
		return lc_fail(lc, -EINVAL, "introspection_addr", "invalid address \"%s\": %s", c->introspection_addr,
			       why);
	if ((r = set_default_str(&c->log_level, "info")) < 0)
		return r;
	if (log_parse_level(c->log_level, &c->log_level_value) < 0)
		return lc_fail(lc, -EINVAL, "log_level", "invalid log level \"%s\"", c->log_level);
	if ((r = check_tls(lc, "tls", &c->tls, 0)) < 0)
		return r;
	if (m == CLAIR_MODE_COMBO || m == CLAIR_MODE_INDEXER)
		if ((r = validate_indexer(lc, &c->indexer)) < 0)
			return r;
	if (m == CLAIR_MODE_COMBO || m == CLAIR_MODE_MATCHER)
		if ((r = validate_matcher(lc, c)) < 0)
			return r;
	if (m == CLAIR_MODE_COMBO || m == CLAIR_MODE_NOTIFIER)
		if ((r = validate_notifier(lc, c)) < 0)
			return r;
	if ((r = validate_auth(lc, &c->auth)) < 0)
		return r;
	if (c->trace.name && *c->trace.name) {
		const char *n = c->trace.name;
		if (!strcmp(n, "jaeger"))
			lc_log(lc, LOG_INFO, "trace.name", "deprecated configuration value",
			       "jaeger tracing is deprecated; use otlp");
		else if (strcmp(n, "otlp") && strcmp(n, "sentry") && strcmp(n, "stdout"))
			lc_warn(lc, "trace.name", "unrecognized tracing exporter", NULL);
	}
	if (c->trace.probability_set && (c->trace.probability < 0 || c->trace.probability > 1))
		return lc_fail(lc, -EINVAL, "trace.probability", "%g is not between 0 and 1", c->trace.probability);
	if ((r = validate_otlp(lc, "trace.otlp", &c->trace.otlp, "/v1/traces")) < 0)
		return r;
	if ((r = set_default_str(&c->metrics.prometheus_endpoint, "/metrics")) < 0)
		return r;
	if (c->metrics.prometheus_endpoint[0] != '/')
		return lc_fail(lc, -EINVAL, "metrics.prometheus.endpoint", "\"%s\" must be an absolute path",
			       c->metrics.prometheus_endpoint);
	if (c->metrics.name && *c->metrics.name && strcmp(c->metrics.name, "prometheus") &&
	    strcmp(c->metrics.name, "otlp") && strcmp(c->metrics.name, "stdout"))
		lc_warn(lc, "metrics.name", "unrecognized metrics exporter", NULL);
	if ((r = validate_otlp(lc, "metrics.otlp", &c->metrics.otlp, "/v1/metrics")) < 0)
		return r;
	return 0;
}

int config_load(const char *path, const struct config_load_opts *opts, struct clair_config *ret, struct diag *d)
{
	struct loadctx lc = {.opts = opts, .d = d, .file = path};
	int r;

	memset(ret, 0, sizeof(*ret));
	diag_clear(d);
	ret->mode = opts->mode;
	ret->path = strdup(path);
	if (!ret->path)
		return -ENOMEM;
	r = config_doc_load(path, &lc.doc, d);
	if (r < 0)
		goto out;
	r = decode_obj(&lc, root_fields, ret, lc.doc.root, "");
	if (r < 0)
		goto out;
	r = validate(&lc, ret);
out:
	if (r == -ENOMEM && d && !d->msg[0])
		diag_set(d, "%s: out of memory", path);
	config_doc_release(&lc.doc);
	if (r < 0)
		config_release(ret);
	return r;
}

int config_notifier_enabled(const struct clair_config *c)
{
	return c->notifier.webhook.set || c->notifier.amqp.set || c->notifier.stomp.set;
}

/* ---- effective configuration ---- */

static json_t *encode_obj(const struct field *fields, const void *base, int show_secrets);

static json_t *encode_field(const struct field *f, const void *base, int show_secrets)
{
	const char *p = (const char *)base + f->off;
	switch (f->type) {
	case F_OBJ:
		return encode_obj(f->sub, p, show_secrets);
	case F_STR: {
		const char *s = *(char *const *)p;
		if (!s)
			s = "";
		if (!show_secrets && (f->flags & FL_SECRET) && *s)
			return json_string("REDACTED");
		if (!show_secrets && (f->flags & FL_DSN) && *s) {
			char red[2048];
			log_redact_dsn(s, red, sizeof(red));
			return json_string(red);
		}
		return json_string(s);
	}
	case F_BOOL:
		return json_boolean(*(const bool *)p);
	case F_INT:
		return json_integer(*(const int *)p);
	case F_DUR: {
		char buf[48];
		return json_string(config_format_duration(*(const int64_t *)p, buf, sizeof(buf)));
	}
	case F_FLOAT:
		return json_real(*(const double *)p);
	case F_STRLIST: {
		const struct config_strlist *l = (const struct config_strlist *)p;
		json_t *a = json_array();
		for (size_t i = 0; a && i < l->n; i++)
			if (json_array_append_new(a, json_string(l->v[i])) < 0) {
				json_decref(a);
				return NULL;
			}
		return a;
	}
	case F_JSON:
		return json_deep_copy(*(json_t *const *)p);
	case F_HEADERS: {
		const struct config_headers *h = (const struct config_headers *)p;
		json_t *o = json_object();
		for (size_t i = 0; o && i < h->n; i++) {
			json_t *a = json_array();
			for (size_t j = 0; a && j < h->v[i].values.n; j++)
				json_array_append_new(a, json_string(h->v[i].values.v[j]));
			if (!a || json_object_set_new(o, h->v[i].name, a) < 0) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	}
	return NULL;
}

static json_t *encode_obj(const struct field *fields, const void *base, int show_secrets)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	for (const struct field *f = fields; f->name; f++) {
		json_t *v;
		if (f->off == NOSET)
			continue;
		if (f->set_off != NOSET && !*(const bool *)((const char *)base + f->set_off))
			continue;
		if (f->type == F_STRLIST && !((const struct config_strlist *)((const char *)base + f->off))->set)
			continue;
		if (f->type == F_JSON && !*(json_t *const *)((const char *)base + f->off))
			continue;
		if (f->type == F_HEADERS && !((const struct config_headers *)((const char *)base + f->off))->n)
			continue;
		v = encode_field(f, base, show_secrets);
		if (!v || json_object_set_new(o, f->name, v) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

json_t *config_to_json(const struct clair_config *c, int show_secrets)
{
	return encode_obj(root_fields, c, show_secrets);
}

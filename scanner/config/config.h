/* config: Clair v4's configuration file (config.yaml / config.json plus <file>.d/ drop-ins).
 *
 *   struct config_load_opts o = {.mode = CLAIR_MODE_COMBO, .strict = 0};
 *   struct clair_config c;
 *   struct diag d;
 *   if (config_load("/etc/clair/config.yaml", &o, &c, &d) < 0) {
 *           fprintf(stderr, "%s\n", d.msg);   // e.g. config.yaml:12: matcher.period: invalid duration "6x"
 *           exit(2);                          // callers (clair, clairctl) exit 2 on any load error
 *   }
 *   ...
 *   config_release(&c);
 *
 * Loading (clair-spec.md §1): the extension must be exactly ".yaml" or ".json"; an empty YAML
 * file is {}; a JSON root must be an object. Files in "<path>.d/" (lexical order, not recursive)
 * with the same extension are RFC 7386 merge patches, "<ext>-patch" files are RFC 6902 JSON
 * patches (a failing "test" op refuses to load); other files are ignored.
 *
 * Unknown or retired keys (anywhere) log one warning each (component "config", fields "path"
 * (dotted key), "file", "line"); with opts.strict they are errors. Every error message starts
 * with "<file>:<line>: <dotted.key>: " naming the file (the main file or the drop-in) that set
 * the offending value. Defaults and validation follow Clair's config.Validate for the chosen
 * mode: the indexer/matcher/notifier sections are defaulted and validated only in the modes that
 * run them (combo runs all three), exactly like Clair.
 *
 * config_load returns 0, -EINVAL (invalid file/value, d->msg says which), -ENOENT/-EACCES (file),
 * -EFBIG (file over 4 MiB or nesting over 64 levels) or -ENOMEM. */
#ifndef SCANNER_CONFIG_CONFIG_H
#define SCANNER_CONFIG_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/diag.h"
#include "common/log.h"

enum clair_mode { CLAIR_MODE_COMBO, CLAIR_MODE_INDEXER, CLAIR_MODE_MATCHER, CLAIR_MODE_NOTIFIER };

/* "combo", "indexer", "matcher", "notifier", case-insensitive. 0 or -EINVAL. */
int config_parse_mode(const char *s, enum clair_mode *ret);
const char *config_mode_name(enum clair_mode m);

/* Go time.ParseDuration: "300ms", "1h30m", "1.5h", "-1m", "0"; units ns us µs μs ms s m h.
 * 0 or -EINVAL ("", "1", "h", "6x") / -ERANGE (overflow). */
int config_parse_duration(const char *s, int64_t *ret_ns);
/* Go Duration.String() ("6h0m0s", "300ms", "0s") into out; returns out. */
char *config_format_duration(int64_t ns, char *out, size_t outlen);

#define CONFIG_SECOND INT64_C(1000000000)
#define CONFIG_MINUTE (60 * CONFIG_SECOND)
#define CONFIG_HOUR (60 * CONFIG_MINUTE)

struct config_load_opts {
	enum clair_mode mode;
	int strict; /* unknown keys are errors */
};

/* A list of strings. set distinguishes an absent key (or null) from an explicit empty list. */
struct config_strlist {
	bool set;
	size_t n;
	char **v;
};

struct config_header {
	char *name;
	struct config_strlist values;
};

struct config_headers {
	size_t n;
	struct config_header *v;
};

/* set: the block was present in the file (for every optional block below). */
struct config_tls {
	bool set;
	char *root_ca; /* deprecated at top level */
	char *cert;
	char *key;
};

struct config_indexer {
	char *connstring;
	int scanlock_retry;		       /* 0 -> 1 */
	int layer_scan_concurrency;	       /* 0 = auto */
	int index_report_request_concurrency; /* 0 -> ncpu*4; <0 unlimited */
	bool migrations;
	bool airgap;
	json_t *scanner; /* {package,dist,repo} maps or NULL */
};

struct config_matcher {
	char *connstring;
	char *indexer_addr; /* required in matcher mode */
	int64_t period;	    /* ns; 0 -> 6h */
	int update_retention; /* <0 -> 0 (gc off); 0,1 -> 10 */
	int64_t cache_age;    /* ns; 0 -> period */
	int max_conn_pool;    /* deprecated, ignored */
	bool migrations;
	bool disable_updaters; /* forces updaters.sets = [] */
	bool disable_enrichment;
};

struct config_matchers {
	struct config_strlist names; /* !set -> defaults, set && n==0 -> none */
	json_t *config;
};

struct config_updaters {
	struct config_strlist sets; /* !set -> defaults, set && n==0 -> none */
	json_t *config;
	char *filter;
};

struct config_webhook {
	bool set;
	char *target;
	char *callback; /* trailing "/" appended */
	struct config_headers headers;
	bool signed_; /* "signed": deprecated, ignored */
};

struct config_amqp_exchange {
	char *name;
	char *type; /* required */
	bool durability;
	bool auto_delete;
};

struct config_amqp {
	bool set;
	struct config_amqp_exchange exchange;
	char *routing_key; /* required */
	struct config_strlist uris; /* >= 1 */
	bool direct;
	int rollup;
	char *callback; /* "/" appended when !direct */
	struct config_tls tls;
};

struct config_stomp_user {
	char *login;
	char *passcode;
};

struct config_stomp {
	bool set;
	char *destination;
	struct config_strlist uris; /* host:port, >= 1 */
	bool direct;
	int rollup;
	char *callback;
	struct config_stomp_user user;
	struct config_tls tls;
};

struct config_notifier {
	char *connstring;
	char *indexer_addr; /* required in notifier mode */
	char *matcher_addr; /* required in notifier mode */
	int64_t poll_interval;	   /* < 1m -> 6h */
	int64_t delivery_interval; /* < 1m -> 1h */
	bool disable_summary;
	bool migrations;
	struct config_webhook webhook;
	struct config_amqp amqp;
	struct config_stomp stomp;
};

struct config_psk {
	bool set;
	char *key;		  /* base64 as written */
	unsigned char *key_bytes; /* decoded */
	size_t key_len;
	struct config_strlist iss;
};

struct config_keyserver {
	bool set; /* fatal: "quay keyserver support has been removed" */
	char *api;
	char *intraservice;
};

struct config_auth {
	struct config_psk psk;
	struct config_keyserver keyserver;
};

struct config_otlp_http {
	bool set;
	char *endpoint;	   /* default localhost:4318 */
	char *url_path;	   /* default /v1/traces, must be absolute */
	char *compression; /* "", gzip, none */
	json_t *headers;
	bool insecure;
	int64_t timeout;
	struct config_tls client_tls;
};

struct config_otlp_grpc {
	bool set;
	char *endpoint; /* default localhost:4317 */
	int64_t reconnect;
	char *service_config;
	char *compression;
	json_t *headers;
	bool insecure;
	int64_t timeout;
	struct config_tls client_tls;
};

struct config_otlp {
	bool set;
	struct config_otlp_http http;
	struct config_otlp_grpc grpc;
};

struct config_jaeger {
	bool set;
	char *agent_endpoint; /* agent.endpoint */
	char *collector_endpoint;
	char *collector_username;
	char *collector_password;
	char *service_name;
	json_t *tags;
	int buffer_max;
};

struct config_sentry {
	bool set;
	char *dsn;
	char *environment;
};

struct config_trace {
	char *name; /* "", otlp, sentry, jaeger (deprecated), stdout */
	bool probability_set;
	double probability;
	struct config_jaeger jaeger;
	struct config_otlp otlp;
	struct config_sentry sentry;
};

struct config_metrics {
	char *name;		  /* "" or prometheus, otlp, stdout */
	char *prometheus_endpoint; /* prometheus.endpoint, default "/metrics" */
	struct config_otlp otlp;
};

struct clair_config {
	enum clair_mode mode;
	char *path;
	char *http_listen_addr;	  /* default ":6060" */
	char *introspection_addr; /* default ":8089" */
	char *log_level;	  /* as written ("" -> "info") */
	enum log_level log_level_value;
	struct config_tls tls;
	struct config_indexer indexer;
	struct config_matcher matcher;
	struct config_matchers matchers;
	struct config_updaters updaters;
	struct config_notifier notifier;
	struct config_auth auth;
	struct config_trace trace;
	struct config_metrics metrics;
};

int config_load(const char *path, const struct config_load_opts *opts, struct clair_config *ret,
		struct diag *d);
void config_release(struct clair_config *c);

/* True when a delivery mechanism (webhook, amqp or stomp) is configured. In combo mode the
 * notifier is disabled (and /notifier/ not mounted) without one. */
int config_notifier_enabled(const struct clair_config *c);

/* The effective configuration (defaults applied) in Clair's key names; durations as Go
 * duration strings. Secrets (psk key, passwords, passcodes, keyserver intraservice, sentry dsn)
 * become "REDACTED" and DSN passwords are masked unless show_secrets. With show_secrets the
 * output loads again to the same configuration. NULL on OOM. */
json_t *config_to_json(const struct clair_config *c, int show_secrets);

/* Writes v as a YAML document (clairctl check-config --out yaml). 0 or -EIO/-ENOMEM. */
int config_write_yaml(const json_t *v, FILE *out);

#endif

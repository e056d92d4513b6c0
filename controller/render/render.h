/* render: pure functions from a ClairDeployment to the objects and files the controller owns.
 * No I/O; every result is a new jansson reference or heap string the caller owns. Names:
 *   <cd>-keys (Secret), <cd>-postgres (Secret, Deployment, Service), <cd>-postgres-data (PVC),
 *   <cd>-postgres-init (ConfigMap), <cd>-config (Secret), <cd>-scanner (Deployment), <cd> (Service). */
#ifndef CONTROLLER_RENDER_RENDER_H
#define CONTROLLER_RENDER_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/diag.h"

#define RENDER_GROUP "scanner.clairc.io"
#define RENDER_VERSION "v1alpha1"
#define RENDER_API_VERSION "scanner.clairc.io/v1alpha1"
#define RENDER_KIND "ClairDeployment"
#define RENDER_MANAGER "clair-controller"
#define RENDER_ANN_CONFIG_HASH "scanner.clairc.io/config-hash"
#define RENDER_ANN_APPLIED_HASH "scanner.clairc.io/applied-hash"
#define RENDER_ANN_MANAGED_KEYS "scanner.clairc.io/managed-keys"
#define RENDER_FINALIZER "scanner.clairc.io/finalizer"
#define RENDER_LABEL_INSTANCE "app.kubernetes.io/instance"
#define RENDER_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define RENDER_LABEL_COMPONENT "app.kubernetes.io/component"
#define RENDER_DEFAULT_IMAGE "quay.io/projectquay/clair:4.9.0"
#define RENDER_DEFAULT_DB_IMAGE "quay.io/sclorg/postgresql-15-c9s:latest"

/* The spec with defaults applied. Strings are borrowed from the ClairDeployment JSON, which must
 * outlive this struct; json_t members are borrowed too. */
struct render_spec {
	const char *name, *namespace, *uid;
	int64_t generation;
	const char *image, *pull_policy;
	int replicas;
	json_t *resources; /* NULL = defaults */
	const char *log_level;
	int scanlock_retry, layer_scan_concurrency;
	bool disable_updaters;
	const char *delivery_interval, *poll_interval;
	json_t *updater_sets; /* array or NULL */
	json_t *auth_issuers; /* array or NULL (= ["quay","clairctl"]) */
	const char *psk_secret, *psk_key;
	bool db_managed;
	const char *db_image;
	int pool_max_conns;
	const char *storage_size, *storage_class;
	bool retain_on_delete;
	const char *ext_secret, *ext_key;
	const char *quay_secret, *quay_key, *server_hostname, *url_scheme;
	bool notifications;
	int indexing_interval; /* 0 = do not write */
	bool remove_keys_on_delete;
	int max_surge, progress_deadline;
	bool auto_rollback;
};

/* Applies defaults and validates. On error returns -EINVAL with the offending field named
 * ("spec.replicas: must be >= 0") in d; nothing should then be applied. */
int render_parse_spec(const json_t *cr, struct render_spec *s, struct diag *d);

/* Generated credentials and the PSK. */
struct render_secrets {
	const char *psk; /* base64 text, as Quay's SECURITY_SCANNER_V4_PSK and Clair's auth.psk.key */
	const char *db_user, *db_password, *db_name;
	const char *connstring; /* external DB: taken verbatim; NULL = build from the managed DB */
};

/* Heap name "<cd><suffix>". */
char *render_name(const struct render_spec *s, const char *suffix);
/* "http://<cd>.<ns>.svc.cluster.local" */
char *render_endpoint(const struct render_spec *s);
/* The connection string the scanner uses (managed or external). */
char *render_connstring(const struct render_spec *s, const struct render_secrets *sec);

/* Random text: n characters from [A-Za-z0-9] (getrandom). */
int render_random_text(size_t n, char **ret);
/* A fresh PSK: 32 random bytes, standard base64. */
int render_new_psk(char **ret);
/* Lower-case hex sha256 of n bytes (65 bytes with the NUL). */
void render_sha256_hex(const void *p, size_t n, char out[65]);
/* sha256 of the compact, key-sorted JSON of o. */
void render_json_hash(const json_t *o, char out[65]);

json_t *render_keys_secret(const struct render_spec *s, const struct render_secrets *sec);
json_t *render_postgres_secret(const struct render_spec *s, const struct render_secrets *sec);
json_t *render_postgres_init_configmap(const struct render_spec *s);
json_t *render_postgres_pvc(const struct render_spec *s);
json_t *render_postgres_deployment(const struct render_spec *s);
json_t *render_postgres_service(const struct render_spec *s);

/* Clair's config.yaml (combo mode). webhook_target NULL = no notifier webhook (then the notifier
 * block is left out). */
int render_config_yaml(const struct render_spec *s, const struct render_secrets *sec, const char *webhook_target,
                       char **ret);
json_t *render_config_secret(const struct render_spec *s, const char *config_yaml, const char *config_hash);
/* image: what to run (spec.image, or the rollback image). */
json_t *render_scanner_deployment(const struct render_spec *s, const char *image, const char *config_hash);
json_t *render_scanner_service(const struct render_spec *s);

/* Schema migration before a rollout: Job "<cd>-migrate-<first 10 hex of sha256(image)>" running
 * `clairctl -c /etc/clair/config.yaml migrate` from image with the config Secret mounted as the
 * scanner Deployment mounts it (restartPolicy Never, backoffLimit RENDER_MIGRATION_BACKOFF_LIMIT,
 * activeDeadlineSeconds RENDER_MIGRATION_DEADLINE_S, owned). Its pod template is immutable, so
 * the controller only ever creates it. */
#define RENDER_MIGRATION_BACKOFF_LIMIT 2
#define RENDER_MIGRATION_DEADLINE_S 3600
char *render_migration_job_name(const struct render_spec *s, const char *image);
json_t *render_migration_job(const struct render_spec *s, const char *image);
/* PodDisruptionBudget "<cd>-scanner" (policy/v1, owned) over the scanner pods: minAvailable 1
 * when replicas > 1, otherwise maxUnavailable 1 (a single replica must not block node drains). */
json_t *render_scanner_pdb(const struct render_spec *s);

/* Quay's config.yaml: sets the scanner keys and keeps every other line. */
struct render_quay_keys {
	const char *endpoint;
	const char *psk;
	bool notifications;
	int indexing_interval; /* 0 = leave alone */
};
/* *ret_changed tells whether *ret differs from old (then *ret is old copied). -EINVAL if old is
 * not YAML or not a mapping. */
int render_quay_config(const char *old, size_t n, const struct render_quay_keys *k, char **ret, bool *ret_changed,
                       struct diag *d);
/* The inverse, for the finalizer: drops every key render_quay_config() manages (and their
 * continuation lines), keeping the rest. */
int render_quay_config_remove(const char *old, size_t n, char **ret, bool *ret_changed, struct diag *d);
/* SERVER_HOSTNAME from Quay's config.yaml, heap, or NULL when absent / unparsable. */
char *render_quay_server_hostname(const char *yaml, size_t n);

/* Sets condition `type` in the array conds (metav1.Condition), keeping lastTransitionTime when
 * the status does not change. now = RFC 3339. Returns true when status, reason or message changed. */
bool render_condition_set(json_t *conds, const char *type, const char *status, const char *reason, const char *msg,
                          int64_t generation, const char *now);
const json_t *render_condition_get(const json_t *conds, const char *type);

/* True when every member of want is present and equal in have (recursively; arrays must have
 * the same length and match element-wise). Used to skip writes the live object already has. */
bool render_json_subset(const json_t *want, const json_t *have);

#endif

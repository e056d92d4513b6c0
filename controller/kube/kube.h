/* kube: a small Kubernetes REST client on libcurl (one client per thread; curl handles are not
 * shared). JSON in and out (jansson). Failures are negative errno codes mapped from the API's
 * Status objects, with the Status message in the diag:
 *
 *   400 BadRequest, 422 Invalid -> -EINVAL     404 NotFound            -> -ENOENT
 *   401 Unauthorized            -> -EACCES     409 AlreadyExists       -> -EEXIST
 *   403 Forbidden               -> -EPERM      409 Conflict            -> -EBUSY
 *   405 MethodNotAllowed        -> -EOPNOTSUPP 410 Gone/Expired        -> -ESTALE
 *   415 UnsupportedMediaType    -> -EPROTONOSUPPORT  429, 503          -> -EAGAIN
 *   other 5xx                   -> -EIO        transport: -ECONNREFUSED, -ETIMEDOUT, -EIO
 */
#ifndef CONTROLLER_KUBE_KUBE_H
#define CONTROLLER_KUBE_KUBE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/diag.h"

#define KUBE_MAX_BODY (32u << 20)      /* cap of one response body */
#define KUBE_MAX_WATCH_LINE (8u << 20) /* cap of one watch event */
#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct kube_config {
	char *server;    /* "https://host:port", no trailing slash */
	char *token;     /* bearer token or NULL */
	char *ca_file;   /* CA bundle path or NULL */
	char *ca_pem;    /* CA PEM text (certificate-authority-data) or NULL */
	char *namespace; /* the context's (or pod's) namespace; never NULL after a load ("default") */
	bool insecure;   /* insecure-skip-tls-verify */
	long timeout_ms; /* per non-watch request (default 30 s) */
};

/* A kubeconfig file: current-context -> cluster (server, certificate-authority[-data],
 * insecure-skip-tls-verify) and user (token, tokenFile). Relative paths are resolved against
 * the file's directory. 0 or -errno with d set. */
int kube_config_load_kubeconfig(const char *path, struct kube_config *c, struct diag *d);
/* In-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with the token, CA and
 * namespace files under sa_dir (NULL = KUBE_SA_DIR). */
int kube_config_in_cluster(const char *sa_dir, struct kube_config *c, struct diag *d);
void kube_config_free(struct kube_config *c);

/* Request counters for /metrics (all clients of the process). */
enum kube_verb { KUBE_GET, KUBE_LIST, KUBE_WATCH, KUBE_CREATE, KUBE_UPDATE, KUBE_PATCH, KUBE_DELETE, KUBE_VERB_N };
extern atomic_uint_fast64_t kube_requests_total[KUBE_VERB_N];
extern atomic_uint_fast64_t kube_request_errors_total;
const char *kube_verb_name(enum kube_verb v);

struct kube_client;

/* Copies what it needs from c. stop (may be NULL) aborts transfers in flight (watches) when it
 * becomes non-zero. */
int kube_client_new(const struct kube_config *c, const atomic_int *stop, struct kube_client **ret);
void kube_client_free(struct kube_client *k);

/* Maps an HTTP status and an optional Status body to -errno (0 for 2xx), with its message. */
int kube_status_to_errno(long http_status, const json_t *status_body, struct diag *d);

/* One request. path begins with "/" and includes any query. body may be NULL. On 2xx returns 0
 * and, if ret is not NULL, the decoded body (new reference; JSON null when empty). */
int kube_request(struct kube_client *k, enum kube_verb verb, const char *method, const char *path,
                 const char *content_type, const json_t *body, json_t **ret, struct diag *d);

/* Conveniences. */
int kube_get(struct kube_client *k, const char *path, json_t **ret, struct diag *d);
int kube_create(struct kube_client *k, const char *collection_path, const json_t *obj, json_t **ret, struct diag *d);
int kube_update(struct kube_client *k, const char *path, const json_t *obj, json_t **ret, struct diag *d);
int kube_merge_patch(struct kube_client *k, const char *path, const json_t *patch, json_t **ret, struct diag *d);
/* Server-side apply (application/apply-patch+yaml with a JSON body; force=true). */
int kube_apply(struct kube_client *k, const char *path, const char *field_manager, const json_t *obj, json_t **ret,
               struct diag *d);
int kube_delete(struct kube_client *k, const char *path, struct diag *d);

/* Watch events: type is ADDED, MODIFIED, DELETED, BOOKMARK (object borrowed). Return non-zero to
 * stop the watch (kube_watch then returns that value). */
typedef int (*kube_watch_fn)(void *ud, const char *type, json_t *object);
/* Streams path (which must contain watch=true) until the server ends it (0), an ERROR event
 * (its code mapped: 410 -> -ESTALE), stop, or a transport error. */
int kube_watch(struct kube_client *k, const char *path, kube_watch_fn fn, void *ud, struct diag *d);

/* Builds "/api/v1/namespaces/NS/secrets[/NAME]" style paths. group "" = core. ns NULL =
 * cluster-wide collection. name NULL = collection. Returns a heap string or NULL. */
char *kube_path(const char *group, const char *version, const char *resource, const char *ns, const char *name,
                const char *subresource);

#endif

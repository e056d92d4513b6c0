/* notifier internals: notification building, canonical JSON, deliverers, STOMP framing. */
#ifndef SCANNER_NOTIFIER_NOTIFIER_INT_H
#define SCANNER_NOTIFIER_NOTIFIER_INT_H

#include <jansson.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/diag.h"
#include "scanner/config/config.h"

/* ---- summary.c ---- */

/* A random (v4) uuid, lowercase, NUL-terminated. */
void ntf_uuid_v4(char out[37]);
/* Rank of a normalized severity name (Unknown 0 .. Critical 5; anything else 0). */
int ntf_severity_rank(const char *name);

/* VulnSummary (clair-spec §3.10 + normalized_severity) from a Vulnerability JSON object: name,
 * description, package?, distribution?, repo?, severity (= the normalized severity, as Clair),
 * normalized_severity, fixed_in_version, links. New object or NULL (OOM). */
json_t *ntf_vuln_summary(const json_t *vuln);
/* A copy of a stored Notification with keys in Clair's order (id, manifest, reason,
 * vulnerability{...}); jsonb does not keep key order. NULL on OOM or a non-object. */
json_t *ntf_notification_canon(const json_t *body);

/* Collects the notifications of one update operation. */
struct ntf_builder {
	int summary;       /* one per (manifest, reason) with the most severe vuln */
	json_t *best[2];   /* summary: {digest: Notification without id} for added / removed */
	json_t *list;      /* disable_summary: [Notification without id] */
	size_t count;
};
int ntf_builder_init(struct ntf_builder *b, int summary);
/* reason "added" or "removed"; affected = AffectedManifests JSON (affected.h). */
int ntf_builder_add(struct ntf_builder *b, const char *reason, const json_t *affected, struct diag *d);
/* The notifications as an array, each with a fresh uuid "id", sorted by manifest then reason.
 * New reference or NULL (OOM). */
json_t *ntf_builder_finish(struct ntf_builder *b);
void ntf_builder_release(struct ntf_builder *b);

/* ---- deliverers (webhook.c, amqp.c, stomp.c) ---- */

struct ntf_deliverer {
	const char *name; /* "webhook", "amqp", "stomp" */
	int direct;       /* needs the notifications themselves; deleted after delivery */
	/* notifs: array of canonical Notifications (direct only; else NULL). 0 = delivered. */
	int (*deliver)(struct ntf_deliverer *dl, const char *id, const json_t *notifs, struct diag *d);
	void (*free)(struct ntf_deliverer *dl);
};

int ntf_webhook_new(const struct clair_config *cfg, struct ntf_deliverer **ret, struct diag *d);
int ntf_amqp_new(const struct clair_config *cfg, struct ntf_deliverer **ret, struct diag *d);
int ntf_stomp_new(const struct clair_config *cfg, struct ntf_deliverer **ret, struct diag *d);

/* Callback URL for id: base (which ends in "/") + id. Heap string or NULL. */
char *ntf_callback_url(const char *base, const char *id);
/* {"notification_id":id,"callback":url} */
char *ntf_callback_body(const char *base, const char *id);

/* ---- notifier mode: the matcher and indexer over HTTP (remote.c) ---- */

#define NTF_REMOTE_MAX_BODY ((size_t)512 << 20)

/* method base+path with an optional JSON body; signs with a clair-intraservice JWT when
 * auth.psk is set; 200 with a JSON body -> *ret. -EIO (transport, non-200 with the body's
 * message in d), -EBADMSG (not JSON), -EFBIG (over NTF_REMOTE_MAX_BODY), -ENOMEM. */
int ntf_remote_json(const struct clair_config *cfg, const char *method, const char *base, const char *path,
		    const char *body, json_t **ret, struct diag *d);

/* ---- STOMP 1.2 framing (stomp.c) ---- */

#define NTF_STOMP_MAX_FRAME (1 << 20)
#define NTF_STOMP_MAX_HEADERS 32

struct ntf_stomp_header {
	char *name, *value;
};
struct ntf_stomp_frame {
	char *command;
	struct ntf_stomp_header h[NTF_STOMP_MAX_HEADERS];
	size_t nh;
	char *body;
	size_t body_len;
};
/* Appends a frame: COMMAND\nname:value (escaped as STOMP 1.2 requires, except on CONNECT)\n
 * ... \n\nbody\0 ; headers is a NULL-terminated name, value, name, value... list. A
 * content-length header is added when body_len > 0. */
int ntf_stomp_encode(struct buf *out, const char *command, const char *const *headers, const char *body,
		     size_t body_len);
/* Parses one frame from p[0..n): returns bytes consumed (> 0), 0 when incomplete, -EBADMSG
 * when malformed or over NTF_STOMP_MAX_FRAME. Heartbeat EOLs before the frame are skipped.
 * The frame holds heap copies (release it). */
long ntf_stomp_parse(const char *p, size_t n, struct ntf_stomp_frame *f);
const char *ntf_stomp_header_get(const struct ntf_stomp_frame *f, const char *name);
void ntf_stomp_frame_release(struct ntf_stomp_frame *f);

#endif

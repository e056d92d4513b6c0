/* AMQP 0-9-1 deliverer on librabbitmq: one connection kept across deliveries and rebuilt after
 * any failure (broker restarts); every publish is in a channel transaction, so a message is
 * counted delivered only once the broker committed it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include "scanner/notifier/notifier_int.h"

#define AMQP_CHANNEL 1
#define AMQP_TIMEOUT_S 15

struct amqp_dl {
	struct ntf_deliverer base;
	const struct config_amqp *cfg;
	amqp_connection_state_t conn;
	int ready;
};

static int reply_fail(amqp_rpc_reply_t r, const char *what, struct diag *d)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return 0;
	case AMQP_RESPONSE_NONE:
		return diag_fail(d, -EIO, "amqp %s: missing reply", what);
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		return diag_fail(d, -EIO, "amqp %s: %s", what, amqp_error_string2(r.library_error));
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = r.reply.decoded;
			return diag_fail(d, -EPROTO, "amqp %s: connection closed by the broker: %u %.*s", what,
					 m->reply_code, (int)m->reply_text.len, (const char *)m->reply_text.bytes);
		}
		if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = r.reply.decoded;
			return diag_fail(d, -EPROTO, "amqp %s: channel closed by the broker: %u %.*s", what,
					 m->reply_code, (int)m->reply_text.len, (const char *)m->reply_text.bytes);
		}
		return diag_fail(d, -EPROTO, "amqp %s: server exception 0x%08x", what, r.reply.id);
	}
	return diag_fail(d, -EIO, "amqp %s: unknown reply", what);
}

static void drop(struct amqp_dl *a)
{
	if (a->conn) {
		if (a->ready) {
			amqp_channel_close(a->conn, AMQP_CHANNEL, AMQP_REPLY_SUCCESS);
			amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);
		}
		amqp_destroy_connection(a->conn);
	}
	a->conn = NULL;
	a->ready = 0;
}

static int open_one(struct amqp_dl *a, const char *uri, struct diag *d)
{
	const struct config_amqp *cfg = a->cfg;
	struct amqp_connection_info ci;
	struct timeval tv = {AMQP_TIMEOUT_S, 0};
	amqp_socket_t *sock;
	char *copy = strdup(uri);
	int rc;

	if (!copy)
		return diag_fail(d, -ENOMEM, "out of memory");
	amqp_default_connection_info(&ci);
	if (amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
		free(copy);
		return diag_fail(d, -EINVAL, "amqp: bad uri");
	}
	a->conn = amqp_new_connection();
	if (!a->conn) {
		free(copy);
		return diag_fail(d, -ENOMEM, "out of memory");
	}
	if (ci.ssl || cfg->tls.set) {
		sock = amqp_ssl_socket_new(a->conn);
		if (sock) {
			amqp_ssl_socket_set_verify_peer(sock, 1);
			amqp_ssl_socket_set_verify_hostname(sock, 1);
			if (cfg->tls.root_ca && amqp_ssl_socket_set_cacert(sock, cfg->tls.root_ca) != AMQP_STATUS_OK)
				sock = NULL;
			else if (cfg->tls.cert && cfg->tls.key &&
				 amqp_ssl_socket_set_key(sock, cfg->tls.cert, cfg->tls.key) != AMQP_STATUS_OK)
				sock = NULL;
		}
	} else {
		sock = amqp_tcp_socket_new(a->conn);
	}
	if (!sock) {
		rc = diag_fail(d, -EINVAL, "amqp: could not set up the socket (TLS files?)");
		goto out;
	}
	if (!ci.vhost || !*ci.vhost)
		ci.vhost = "/"; /* "amqp://host:port/" names the empty vhost; mean the default one */
	rc = amqp_socket_open_noblock(sock, ci.host, ci.port, &tv);
	if (rc != AMQP_STATUS_OK) {
		rc = diag_fail(d, -ECONNREFUSED, "amqp %s:%d: %s", ci.host, ci.port, amqp_error_string2(rc));
		goto out;
	}
	amqp_set_rpc_timeout(a->conn, &tv);
	if ((rc = reply_fail(amqp_login(a->conn, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password),
			     "login", d)) < 0)
		goto out;
	amqp_channel_open(a->conn, AMQP_CHANNEL);
	if ((rc = reply_fail(amqp_get_rpc_reply(a->conn), "channel.open", d)) < 0)
		goto out;
	a->ready = 1;
	if (cfg->exchange.name && *cfg->exchange.name) {
		amqp_exchange_declare(a->conn, AMQP_CHANNEL, amqp_cstring_bytes(cfg->exchange.name),
				      amqp_cstring_bytes(cfg->exchange.type ? cfg->exchange.type : "direct"), 1,
				      cfg->exchange.durability, cfg->exchange.auto_delete, 0, amqp_empty_table);
		if ((rc = reply_fail(amqp_get_rpc_reply(a->conn), "exchange.declare (passive)", d)) < 0) {
			a->ready = 0;
			goto out;
		}
	}
	amqp_tx_select(a->conn, AMQP_CHANNEL);
	if ((rc = reply_fail(amqp_get_rpc_reply(a->conn), "tx.select", d)) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		drop(a);
	free(copy);
	return rc;
}

static int ensure(struct amqp_dl *a, struct diag *d)
{
	int rc = -ECONNREFUSED;
	if (a->conn && a->ready)
		return 0;
	drop(a);
	for (size_t i = 0; i < a->cfg->uris.n; i++) {
		rc = open_one(a, a->cfg->uris.v[i], d);
		if (rc == 0)
			return 0;
	}
	return rc;
}

static int publish(struct amqp_dl *a, const char *body, struct diag *d)
{
	amqp_basic_properties_t p = {0};
	int st;

	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_APP_ID_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.app_id = amqp_cstring_bytes("clairV4-notifier");
	st = amqp_basic_publish(a->conn, AMQP_CHANNEL,
				amqp_cstring_bytes(a->cfg->exchange.name ? a->cfg->exchange.name : ""),
				amqp_cstring_bytes(a->cfg->routing_key ? a->cfg->routing_key : ""), 0, 0, &p,
				amqp_cstring_bytes(body));
	if (st != AMQP_STATUS_OK)
		return diag_fail(d, -EIO, "amqp publish: %s", amqp_error_string2(st));
	return 0;
}

static int amqp_deliver(struct ntf_deliverer *dl, const char *id, const json_t *notifs, struct diag *d)
{
	struct amqp_dl *a = (struct amqp_dl *)dl;
	char *text = NULL;
	int rc;

	if ((rc = ensure(a, d)) < 0)
		return rc;
	if (!a->cfg->direct) {
		text = ntf_callback_body(a->cfg->callback, id);
		if (!text)
			return diag_fail(d, -ENOMEM, "out of memory");
		rc = publish(a, text, d);
		free(text);
	} else {
		size_t roll = a->cfg->rollup > 0 ? (size_t)a->cfg->rollup : 1, total = json_array_size(notifs);
		rc = 0;
		for (size_t off = 0; off < total && rc == 0; off += roll) {
			json_t *batch = json_array();
			for (size_t i = off; batch && i < total && i < off + roll; i++)
				json_array_append(batch, json_array_get(notifs, i));
			text = batch ? json_dumps(batch, JSON_COMPACT) : NULL;
			json_decref(batch);
			rc = text ? publish(a, text, d) : diag_fail(d, -ENOMEM, "out of memory");
			free(text);
		}
	}
	if (rc == 0) {
		amqp_tx_commit(a->conn, AMQP_CHANNEL);
		rc = reply_fail(amqp_get_rpc_reply(a->conn), "tx.commit", d);
	}
	if (rc < 0)
		drop(a); /* reconnect on the next delivery */
	return rc;
}

static void amqp_free(struct ntf_deliverer *dl)
{
	struct amqp_dl *a = (struct amqp_dl *)dl;
	drop(a);
	free(a);
}

int ntf_amqp_new(const struct clair_config *cfg, struct ntf_deliverer **ret, struct diag *d)
{
	struct amqp_dl *a;
	if (!cfg->notifier.amqp.uris.n)
		return diag_fail(d, -EINVAL, "notifier.amqp.uris: at least one uri is required");
	a = calloc(1, sizeof(*a));
	if (!a)
		return diag_fail(d, -ENOMEM, "out of memory");
	a->base.name = "amqp";
	a->base.direct = cfg->notifier.amqp.direct;
	a->base.deliver = amqp_deliver;
	a->base.free = amqp_free;
	a->cfg = &cfg->notifier.amqp;
	*ret = &a->base;
	return 0;
}

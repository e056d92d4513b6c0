/* scan.c: one streaming pass over a layer: hash the compressed bytes, sniff the compression,
 * walk the tar with libarchive, keep only what is wanted (+ whiteouts + symlinks), resolve links
 * inside the layer, verify the digest. */
#include "scanner/indexer/layer/layer_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#define READ_CHUNK (64 * 1024)
#define SNIFF_LEN 6

enum ent_kind { ENT_NONE = 0, ENT_FILE, ENT_DIR, ENT_SYMLINK, ENT_HARDLINK };

struct ent {
	char *path;
	char *link; /* symlink target as stored, or normalized hard link target */
	unsigned char *data;
	size_t len;
	uint32_t mode;
	unsigned char kind;
	unsigned char wanted;
	unsigned char has_data;
};

struct scan {
	const struct layer_fetch_opts *o;
	layer_want_fn want;
	void *want_ctx;
	const char *label;
	struct layer_src *src;
	struct diag *d;
	EVP_MD_CTX *md;
	uint64_t raw_bytes;
	int src_err; /* error from the source (diag in src_diag) */
	struct diag src_diag;
	int src_eof;
	unsigned char sniff[SNIFF_LEN];
	size_t sniff_len, sniff_off;
	unsigned char *rbuf;

	struct ent *ents;
	size_t n_ents, cap_ents;
	size_t *map; /* open addressing: index+1 into ents, 0 = empty */
	size_t map_cap;
	size_t n_wanted_links;
	char **pending; /* resolved targets of wanted links, to buffer when they stream by */
	size_t n_pending;
	int pending_dirty;
	char **whiteouts;
	size_t n_whiteouts, cap_whiteouts;
	size_t buffered;
	uint64_t n_entries;
};

#define FAIL(sc, err, ...) scan_fail((sc), (err), __VA_ARGS__)

__attribute__((format(printf, 3, 4))) static int scan_fail(struct scan *sc, int err, const char *fmt, ...)
{
	char msg[DIAG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return diag_fail(sc->d, err, "layer \"%s\": %s", sc->label, msg);
}

/* ---- hashed source ---- */

static ssize_t scan_src_read(struct scan *sc, void *buf, size_t n)
{
	if (sc->src_err)
		return sc->src_err;
	if (sc->src_eof)
		return 0;
	diag_clear(&sc->src_diag);
	ssize_t r = sc->src->read(sc->src, buf, n, &sc->src_diag);
	if (r < 0) {
		sc->src_err = (int)r;
		return r;
	}
	if (r == 0) {
		sc->src_eof = 1;
		return 0;
	}
	sc->raw_bytes += (uint64_t)r;
	if (sc->raw_bytes > sc->o->max_layer_bytes) {
		sc->src_err = -EFBIG;
		diag_set(&sc->src_diag, "compressed size exceeds %llu bytes",
		         (unsigned long long)sc->o->max_layer_bytes);
		return -EFBIG;
	}
	if (EVP_DigestUpdate(sc->md, buf, (size_t)r) != 1) {
		sc->src_err = -ENOMEM;
		diag_set(&sc->src_diag, "digest update failed");
		return -ENOMEM;
	}
	return r;
}

static la_ssize_t scan_archive_read(struct archive *a, void *ud, const void **buf)
{
	struct scan *sc = ud;
	if (sc->sniff_off < sc->sniff_len) {
		*buf = sc->sniff + sc->sniff_off;
		la_ssize_t n = (la_ssize_t)(sc->sniff_len - sc->sniff_off);
		sc->sniff_off = sc->sniff_len;
		return n;
	}
	ssize_t r = scan_src_read(sc, sc->rbuf, READ_CHUNK);
	if (r < 0) {
		archive_set_error(a, EIO, "source failed");
		return -1;
	}
	*buf = sc->rbuf;
	return r;
}

/* ---- the entry table ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct ent *ent_lookup(struct scan *sc, const char *path)
{
	if (!sc->map_cap)
		return NULL;
	size_t mask = sc->map_cap - 1;
	for (size_t i = (size_t)hash_str(path) & mask;; i = (i + 1) & mask) {
		size_t v = sc->map[i];
		if (!v)
			return NULL;
		if (strcmp(sc->ents[v - 1].path, path) == 0)
			return &sc->ents[v - 1];
	}
}

static int map_grow(struct scan *sc)
{
	size_t ncap = sc->map_cap ? sc->map_cap * 2 : 64;
	size_t *nm = calloc(ncap, sizeof(*nm));
	if (!nm)
		return -ENOMEM;
	for (size_t k = 0; k < sc->n_ents; k++) {
		size_t i = (size_t)hash_str(sc->ents[k].path) & (ncap - 1);
		while (nm[i])
			i = (i + 1) & (ncap - 1);
		nm[i] = k + 1;
	}
	free(sc->map);
	sc->map = nm;
	sc->map_cap = ncap;
	return 0;
}

static void ent_clear(struct scan *sc, struct ent *e)
{
	if ((e->kind == ENT_SYMLINK || e->kind == ENT_HARDLINK) && e->wanted) {
		sc->n_wanted_links--;
		sc->pending_dirty = 1;
	}
	if (e->kind == ENT_SYMLINK)
		sc->pending_dirty = 1;
	sc->buffered -= e->len + (e->link ? strlen(e->link) : 0);
	free(e->link);
	free(e->data);
	e->link = NULL;
	e->data = NULL;
	e->len = 0;
	e->has_data = 0;
	e->kind = ENT_NONE;
	e->wanted = 0;
}

/* The slot for path (existing one cleared, or a new one). */
static int ent_slot(struct scan *sc, const char *path, struct ent **ret)
{
	struct ent *e = ent_lookup(sc, path);
	if (e) {
		ent_clear(sc, e);
		*ret = e;
		return 0;
	}
	if (sc->n_ents == sc->cap_ents) {
		size_t ncap = sc->cap_ents ? sc->cap_ents * 2 : 32;
		struct ent *ne = realloc(sc->ents, ncap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		sc->ents = ne;
		sc->cap_ents = ncap;
	}
	if ((sc->n_ents + 1) * 2 > sc->map_cap) {
		int err = map_grow(sc);
		if (err < 0)
			return err;
	}
	e = &sc->ents[sc->n_ents];
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	if (!e->path)
		return -ENOMEM;
	sc->buffered += strlen(path);
	size_t mask = sc->map_cap - 1;
	size_t i = (size_t)hash_str(path) & mask;
	while (sc->map[i])
		i = (i + 1) & mask;
	sc->map[i] = ++sc->n_ents;
	*ret = e;
	return 0;
}

/* ---- link resolution ---- */

/* Resolves path through the symlinks (every component) and hard links (final) known so far.
 * 0 with the final path in out; -ELOOP, -EXDEV (escapes the root), -ENAMETOOLONG. */
static int scan_resolve(struct scan *sc, const char *path, char *out, size_t n)
{
	char rest[2 * LAYER_PATH_MAX + 2], tmp[2 * LAYER_PATH_MAX + 2], cur[LAYER_PATH_MAX];
	int hops = 0;
	size_t pl = strlen(path);
	if (pl >= sizeof(rest))
		return -ENAMETOOLONG;
	memcpy(rest, path, pl + 1);
	cur[0] = 0;
	for (;;) {
		const char *p = rest;
		while (*p) {
			while (*p == '/')
				p++;
			if (!*p)
				break;
			const char *e = strchr(p, '/');
			size_t cl = e ? (size_t)(e - p) : strlen(p);
			size_t curl = strlen(cur);
			if (cl == 1 && p[0] == '.') {
				p += cl;
				continue;
			}
			if (cl == 2 && p[0] == '.' && p[1] == '.') {
				if (!curl)
					return -EXDEV;
				char *slash = strrchr(cur, '/');
				if (slash)
					*slash = 0;
				else
					cur[0] = 0;
				p += cl;
				continue;
			}
			if (curl + 1 + cl + 1 > sizeof(cur))
				return -ENAMETOOLONG;
			size_t save = curl;
			if (curl)
				cur[curl++] = '/';
			memcpy(cur + curl, p, cl);
			cur[curl + cl] = 0;
			p += cl;
			struct ent *en = ent_lookup(sc, cur);
			if (en && en->kind == ENT_SYMLINK) {
				if (++hops > LAYER_LINK_HOPS)
					return -ELOOP;
				cur[save] = 0; /* back to the link's directory */
				if (en->link[0] == '/')
					cur[0] = 0;
				int w = snprintf(tmp, sizeof(tmp), "%s/%s", en->link, p);
				if (w < 0 || (size_t)w >= sizeof(tmp))
					return -ENAMETOOLONG;
				memcpy(rest, tmp, (size_t)w + 1);
				p = rest;
			}
		}
		struct ent *fin = ent_lookup(sc, cur);
		if (fin && fin->kind == ENT_HARDLINK) {
			if (++hops > LAYER_LINK_HOPS)
				return -ELOOP;
			size_t ll = strlen(fin->link);
			if (ll >= sizeof(rest))
				return -ENAMETOOLONG;
			memcpy(rest, fin->link, ll + 1);
			cur[0] = 0;
			continue;
		}
		break;
	}
	size_t cl = strlen(cur);
	if (cl + 1 > n)
		return -ENAMETOOLONG;
	memcpy(out, cur, cl + 1);
	return 0;
}

static void pending_clear(struct scan *sc)
{
	for (size_t i = 0; i < sc->n_pending; i++)
		free(sc->pending[i]);
	free(sc->pending);
	sc->pending = NULL;
	sc->n_pending = 0;
}

static int pending_recompute(struct scan *sc)
{
	char out[LAYER_PATH_MAX];
	pending_clear(sc);
	sc->pending_dirty = 0;
	if (!sc->n_wanted_links)
		return 0;
	sc->pending = calloc(sc->n_wanted_links, sizeof(*sc->pending));
	if (!sc->pending)
		return -ENOMEM;
	for (size_t i = 0; i < sc->n_ents && sc->n_pending < sc->n_wanted_links; i++) {
		struct ent *e = &sc->ents[i];
		if (!e->wanted || (e->kind != ENT_SYMLINK && e->kind != ENT_HARDLINK))
			continue;
		if (scan_resolve(sc, e->path, out, sizeof(out)) < 0)
			continue;
		char *s = strdup(out);
		if (!s)
			return -ENOMEM;
		sc->pending[sc->n_pending++] = s;
	}
	return 0;
}

static int scan_is_pending(struct scan *sc, const char *path, int *ret)
{
	*ret = 0;
	if (!sc->n_wanted_links)
		return 0;
	if (sc->pending_dirty) {
		int err = pending_recompute(sc);
		if (err < 0)
			return err;
	}
	for (size_t i = 0; i < sc->n_pending; i++)
		if (strcmp(sc->pending[i], path) == 0) {
			*ret = 1;
			return 0;
		}
	return 0;
}

/* ---- entries ---- */

static int scan_budget(struct scan *sc, size_t add)
{
	if (sc->buffered + add > sc->o->max_total_buffered || sc->buffered + add < sc->buffered)
		return FAIL(sc, -EFBIG, "more than %zu bytes of paths to keep", sc->o->max_total_buffered);
	return 0;
}

static int scan_whiteout(struct scan *sc, const char *path)
{
	int err = scan_budget(sc, strlen(path));
	if (err < 0)
		return err;
	if (sc->n_whiteouts == sc->cap_whiteouts) {
		size_t ncap = sc->cap_whiteouts ? sc->cap_whiteouts * 2 : 8;
		char **nw = realloc(sc->whiteouts, ncap * sizeof(*nw));
		if (!nw)
			return -ENOMEM;
		sc->whiteouts = nw;
		sc->cap_whiteouts = ncap;
	}
	char *s = strdup(path);
	if (!s)
		return -ENOMEM;
	sc->whiteouts[sc->n_whiteouts++] = s;
	sc->buffered += strlen(path);
	return 0;
}

static void scan_drop(struct scan *sc, const char *path)
{
	struct ent *e = ent_lookup(sc, path);
	if (e)
		ent_clear(sc, e);
}

static int scan_archive_fail(struct scan *sc, struct archive *a, const char *what)
{
	if (sc->src_err) {
		diag_set(sc->d, "layer \"%s\": %s", sc->label, sc->src_diag.msg);
		return sc->src_err;
	}
	const char *msg = archive_error_string(a);
	if (!msg)
		msg = "unknown error";
	int errnum = archive_errno(a);
	if (errnum == ENOMEM)
		return FAIL(sc, -ENOMEM, "%s", msg);
	if (strcasestr(msg, "truncated") || (sc->src_eof && strstr(msg, "Damaged")))
		return FAIL(sc, -EBADMSG, "%s data truncated (%s)", what, msg);
	if (strstr(msg, "Unrecognized archive format")) {
		/* a compressed stream that ended before any tar header came out */
		if (sc->src_eof && strcmp(what, "zstd") == 0) /* libarchive's zstd reader ends quietly */
			return FAIL(sc, -EBADMSG, "zstd data truncated or not a tar archive");
		return FAIL(sc, -EBADMSG, "not a tar archive");
	}
	return FAIL(sc, -EBADMSG, "%s: %s", what, msg);
}

static int scan_read_file(struct scan *sc, struct archive *a, struct ent *e, int64_t size, const char *what)
{
	unsigned char *data = malloc((size_t)size + 1);
	if (!data)
		return -ENOMEM;
	size_t got = 0;
	while (got < (size_t)size) {
		la_ssize_t r = archive_read_data(a, data + got, (size_t)size - got);
		if (r < 0) {
			free(data);
			return scan_archive_fail(sc, a, what);
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	data[got] = 0;
	e->data = data;
	e->len = got;
	e->has_data = 1;
	sc->buffered += got;
	return 0;
}

static int scan_entry(struct scan *sc, struct archive *a, struct archive_entry *ae, const char *what)
{
	char path[LAYER_PATH_MAX];
	const char *raw = archive_entry_pathname(ae);
	if (!raw)
		raw = archive_entry_pathname_utf8(ae);
	if (!raw)
		return 0;
	if (layer_path_normalize(raw, path, sizeof(path)) < 0) {
		log_debug("indexer/layer", "path too long, entry skipped", "{s:s}", "layer", sc->label);
		return 0;
	}
	if (!path[0])
		return 0;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strncmp(base, ".wh.", 4) == 0)
		return scan_whiteout(sc, path);

	struct ent *e = NULL;
	int err, pend = 0;
	const char *hl = archive_entry_hardlink(ae);
	if (!hl && archive_entry_hardlink_utf8(ae))
		hl = archive_entry_hardlink_utf8(ae);
	mode_t type = archive_entry_filetype(ae);
	uint32_t mode = (uint32_t)archive_entry_perm(ae);

	if (hl) {
		char target[LAYER_PATH_MAX];
		if (layer_path_normalize(hl, target, sizeof(target)) < 0 || !target[0]) {
			scan_drop(sc, path);
			return 0;
		}
		int wanted = sc->want(path, 0, sc->want_ctx) == 1;
		if (!wanted && (err = scan_is_pending(sc, path, &pend)) < 0)
			return err;
		if (!wanted && !pend) {
			scan_drop(sc, path);
			return 0;
		}
		if ((err = scan_budget(sc, strlen(path) + strlen(target))) < 0)
			return err;
		if ((err = ent_slot(sc, path, &e)) < 0)
			return err;
		e->link = strdup(target);
		if (!e->link)
			return -ENOMEM;
		sc->buffered += strlen(target);
		e->kind = ENT_HARDLINK;
		e->mode = mode;
		e->wanted = (unsigned char)wanted;
		if (wanted) {
			sc->n_wanted_links++;
			sc->pending_dirty = 1;
		}
		return 0;
	}
	switch (type) {
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(ae);
		if (!target)
			target = archive_entry_symlink_utf8(ae);
		if (!target || !target[0]) {
			scan_drop(sc, path);
			return 0;
		}
		int wanted = sc->want(path, 0, sc->want_ctx) == 1;
		if ((err = scan_budget(sc, strlen(path) + strlen(target))) < 0)
			return err;
		if ((err = ent_slot(sc, path, &e)) < 0)
			return err;
		e->link = strdup(target);
		if (!e->link)
			return -ENOMEM;
		sc->buffered += strlen(target);
		e->kind = ENT_SYMLINK;
		e->mode = mode;
		e->wanted = (unsigned char)wanted;
		if (wanted)
			sc->n_wanted_links++;
		sc->pending_dirty = 1;
		return 0;
	}
	case AE_IFDIR: {
		if (sc->want(path, 1, sc->want_ctx) != 1) {
			struct ent *old = ent_lookup(sc, path);
			if (old && old->kind != ENT_DIR) /* a directory replacing a symlink or file */
				ent_clear(sc, old);
			return 0;
		}
		if ((err = ent_slot(sc, path, &e)) < 0)
			return err;
		e->kind = ENT_DIR;
		e->mode = mode;
		e->wanted = 1;
		return 0;
	}
	case AE_IFREG: {
		int64_t size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
		if (size < 0)
			size = 0;
		int64_t pos = archive_filter_bytes(a, 0);
		if (archive_entry_sparse_count(ae) == 0 && pos >= 0 &&
		    (uint64_t)pos + (uint64_t)size > sc->o->max_tar_bytes)
			return FAIL(sc, -EFBIG, "uncompressed size exceeds %llu bytes",
			            (unsigned long long)sc->o->max_tar_bytes);
		int wanted = sc->want(path, 0, sc->want_ctx) == 1;
		if (!wanted && (err = scan_is_pending(sc, path, &pend)) < 0)
			return err;
		if (!wanted && !pend) {
			scan_drop(sc, path);
			return 0;
		}
		if ((uint64_t)size > sc->o->max_file_bytes) {
			log_warn("indexer/layer", "file too big to scan, skipped", "{s:s,s:s,s:I,s:I}", "layer",
			         sc->label, "path", path, "size", (json_int_t)size, "max",
			         (json_int_t)sc->o->max_file_bytes);
			scan_drop(sc, path);
			return 0;
		}
		if (sc->buffered + (size_t)size + strlen(path) > sc->o->max_total_buffered) {
			log_warn("indexer/layer", "layer buffer full, file skipped", "{s:s,s:s,s:I,s:I}", "layer",
			         sc->label, "path", path, "size", (json_int_t)size, "max_total",
			         (json_int_t)sc->o->max_total_buffered);
			scan_drop(sc, path);
			return 0;
		}
		if ((err = ent_slot(sc, path, &e)) < 0)
			return err;
		e->kind = ENT_FILE;
		e->mode = mode;
		e->wanted = (unsigned char)wanted;
		return scan_read_file(sc, a, e, size, what);
	}
	default:
		scan_drop(sc, path);
		return 0;
	}
}

/* ---- results ---- */

/* Gives every wanted link the content of its target (a copy). */
static int scan_resolve_links(struct scan *sc)
{
	char out[LAYER_PATH_MAX];
	for (size_t i = 0; i < sc->n_ents; i++) {
		struct ent *e = &sc->ents[i];
		if (!e->wanted || (e->kind != ENT_SYMLINK && e->kind != ENT_HARDLINK))
			continue;
		int err = scan_resolve(sc, e->path, out, sizeof(out));
		const struct ent *t = err < 0 ? NULL : ent_lookup(sc, out);
		if (!t || t->kind != ENT_FILE || !t->has_data) {
			log_debug("indexer/layer", "link not resolved inside the layer", "{s:s,s:s,s:s,s:s}", "layer",
			          sc->label, "path", e->path, "target", e->link, "why",
			          err == -ELOOP   ? "loop"
			          : err == -EXDEV ? "escapes the root"
			                          : "target not in layer");
			continue;
		}
		if (sc->buffered + t->len > sc->o->max_total_buffered) {
			log_warn("indexer/layer", "layer buffer full, link skipped", "{s:s,s:s}", "layer", sc->label,
			         "path", e->path);
			continue;
		}
		e->data = malloc(t->len + 1);
		if (!e->data)
			return -ENOMEM;
		memcpy(e->data, t->data, t->len + 1);
		e->len = t->len;
		e->mode = t->mode;
		e->has_data = 1;
		sc->buffered += t->len;
	}
	return 0;
}

static int scan_emit(struct scan *sc, struct layer_files *ret)
{
	size_t n = 0;
	for (size_t i = 0; i < sc->n_ents; i++) {
		const struct ent *e = &sc->ents[i];
		if (e->wanted && (e->kind == ENT_DIR || e->has_data))
			n++;
	}
	if (n) {
		ret->files = calloc(n, sizeof(*ret->files));
		if (!ret->files)
			return -ENOMEM;
	}
	for (size_t i = 0; i < sc->n_ents; i++) {
		struct ent *e = &sc->ents[i];
		if (!e->wanted || !(e->kind == ENT_DIR || e->has_data))
			continue;
		struct layer_file *f = &ret->files[ret->n_files++];
		f->path = e->path;
		e->path = NULL;
		f->type = e->kind == ENT_DIR ? LAYER_FILE_DIR : LAYER_FILE_REG;
		f->data = e->data;
		f->len = e->len;
		f->mode = e->mode;
		e->data = NULL;
		e->len = 0;
	}
	ret->whiteouts = sc->whiteouts;
	ret->n_whiteouts = sc->n_whiteouts;
	sc->whiteouts = NULL;
	sc->n_whiteouts = 0;
	return 0;
}

static void scan_release(struct scan *sc)
{
	for (size_t i = 0; i < sc->n_ents; i++) {
		free(sc->ents[i].path);
		free(sc->ents[i].link);
		free(sc->ents[i].data);
	}
	free(sc->ents);
	free(sc->map);
	pending_clear(sc);
	for (size_t i = 0; i < sc->n_whiteouts; i++)
		free(sc->whiteouts[i]);
	free(sc->whiteouts);
	free(sc->rbuf);
	if (sc->md)
		EVP_MD_CTX_free(sc->md);
}

static const char hexdigits[] = "0123456789abcdef";

int layer_scan_src(struct layer_src *src, const char *label, const struct layer_digest *expected,
                   const struct layer_fetch_opts *o, layer_want_fn want, void *want_ctx, struct layer_files *ret,
                   struct diag *d, int *ret_transient)
{
	struct scan sc = {0};
	struct archive *a = NULL;
	int err = 0;
	const char *what = "tar";

	if (ret_transient)
		*ret_transient = 0;
	memset(ret, 0, sizeof(*ret));
	sc.o = o;
	sc.want = want;
	sc.want_ctx = want_ctx;
	sc.label = label;
	sc.src = src;
	sc.d = d;
	sc.md = EVP_MD_CTX_new();
	sc.rbuf = malloc(READ_CHUNK);
	if (!sc.md || !sc.rbuf) {
		err = -ENOMEM;
		goto out;
	}
	const EVP_MD *mdt = expected && expected->algo == LAYER_DIGEST_SHA512 ? EVP_sha512() : EVP_sha256();
	if (EVP_DigestInit_ex(sc.md, mdt, NULL) != 1) {
		err = FAIL(&sc, -ENOMEM, "digest init failed");
		goto out;
	}

	/* sniff */
	while (sc.sniff_len < SNIFF_LEN) {
		ssize_t r = scan_src_read(&sc, sc.sniff + sc.sniff_len, SNIFF_LEN - sc.sniff_len);
		if (r < 0) {
			err = FAIL(&sc, (int)r, "%s", sc.src_diag.msg);
			goto out;
		}
		if (r == 0)
			break;
		sc.sniff_len += (size_t)r;
	}
	const unsigned char *m = sc.sniff;
	size_t ml = sc.sniff_len;
	int filter = ARCHIVE_FILTER_NONE;
	if (ml >= 3 && m[0] == 0x1f && m[1] == 0x8b && m[2] == 0x08) {
		filter = ARCHIVE_FILTER_GZIP;
		what = "gzip";
	} else if (ml >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
		filter = ARCHIVE_FILTER_ZSTD;
		what = "zstd";
	} else if (ml >= 4 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h' && m[3] >= '1' && m[3] <= '9') {
		err = FAIL(&sc, -EBADMSG, "disallowed compression kind bzip2");
		goto out;
	} else if (ml >= 6 && memcmp(m,
	                             "\xfd"
	                             "7zXZ\0",
	                             6) == 0) {
		err = FAIL(&sc, -EBADMSG, "disallowed compression kind xz");
		goto out;
	}

	if (ml > 0) {
		struct archive_entry *ae;
		a = archive_read_new();
		if (!a) {
			err = -ENOMEM;
			goto out;
		}
		if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
		    archive_read_append_filter(a, filter) != ARCHIVE_OK) {
			/* ARCHIVE_WARN would mean an external program: never */
			err = FAIL(&sc, -EBADMSG, "%s decompression not available", what);
			goto out;
		}
		if (archive_read_open(a, &sc, NULL, scan_archive_read, NULL) != ARCHIVE_OK) {
			err = scan_archive_fail(&sc, a, what);
			goto out;
		}
		for (;;) {
			int r = archive_read_next_header(a, &ae);
			if (r == ARCHIVE_EOF)
				break;
			if (r < ARCHIVE_WARN) {
				err = scan_archive_fail(&sc, a, what);
				goto out;
			}
			if (++sc.n_entries > o->max_entries) {
				err =
				    FAIL(&sc, -EFBIG, "more than %llu tar entries", (unsigned long long)o->max_entries);
				goto out;
			}
			int64_t pos = archive_filter_bytes(a, 0);
			if (pos > 0 && (uint64_t)pos > o->max_tar_bytes) {
				err = FAIL(&sc, -EFBIG, "uncompressed size exceeds %llu bytes",
				           (unsigned long long)o->max_tar_bytes);
				goto out;
			}
			if ((err = scan_entry(&sc, a, ae, what)) < 0) {
				if (err == -ENOMEM && d && !d->msg[0])
					FAIL(&sc, -ENOMEM, "out of memory");
				goto out;
			}
		}
		int64_t pos = archive_filter_bytes(a, 0);
		ret->tar_bytes = pos > 0 ? (uint64_t)pos : 0;
		if (ret->tar_bytes > o->max_tar_bytes) {
			err = FAIL(&sc, -EFBIG, "uncompressed size exceeds %llu bytes",
			           (unsigned long long)o->max_tar_bytes);
			goto out;
		}
		archive_read_free(a);
		a = NULL;
	}
	/* the rest of the stream (after the tar's end marker) still counts for the digest */
	for (;;) {
		ssize_t r = scan_src_read(&sc, sc.rbuf, READ_CHUNK);
		if (r < 0) {
			err = FAIL(&sc, (int)r, "%s", sc.src_diag.msg);
			goto out;
		}
		if (r == 0)
			break;
	}
	unsigned char sum[EVP_MAX_MD_SIZE];
	unsigned int sl = 0;
	if (EVP_DigestFinal_ex(sc.md, sum, &sl) != 1) {
		err = FAIL(&sc, -ENOMEM, "digest final failed");
		goto out;
	}
	char got[7 + 1 + 2 * EVP_MAX_MD_SIZE + 1];
	size_t gl = 0;
	memcpy(got, mdt == EVP_sha512() ? "sha512:" : "sha256:", 7);
	gl = 7;
	for (unsigned i = 0; i < sl; i++) {
		got[gl++] = hexdigits[sum[i] >> 4];
		got[gl++] = hexdigits[sum[i] & 15];
	}
	got[gl] = 0;
	if (expected && (expected->len != sl || memcmp(expected->sum, sum, sl) != 0)) {
		err = FAIL(&sc, -EBADMSG, "digest mismatch (got %s)", got);
		goto out;
	}
	if ((err = scan_resolve_links(&sc)) < 0)
		goto out;
	ret->digest = strdup(expected ? expected->str : got);
	if (!ret->digest) {
		err = -ENOMEM;
		goto out;
	}
	ret->n_entries = (size_t)sc.n_entries;
	if ((err = scan_emit(&sc, ret)) < 0)
		goto out;
out:
	if (err < 0) {
		if (err == -ENOMEM && d && !d->msg[0])
			FAIL(&sc, -ENOMEM, "out of memory");
		if (ret_transient && sc.src_err == err)
			*ret_transient = src->transient;
		layer_files_release(ret);
	}
	if (a)
		archive_read_free(a);
	scan_release(&sc);
	return err;
}

/* ---- fd source ---- */

struct fd_src {
	struct layer_src base;
	int fd;
};

static ssize_t fd_src_read(struct layer_src *s, void *buf, size_t n, struct diag *d)
{
	struct fd_src *f = (struct fd_src *)s;
	for (;;) {
		ssize_t r = read(f->fd, buf, n);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		int e = errno;
		diag_set(d, "read: %s", strerror(e));
		s->transient = 0;
		return -e;
	}
}

int layer_scan_fd(int fd, const char *expected_digest, const struct layer_fetch_opts *o, layer_want_fn want,
                  void *want_ctx, struct layer_files *ret, struct diag *d)
{
	struct layer_digest dg;
	struct fd_src src = {.base = {.read = fd_src_read}, .fd = fd};
	struct layer_fetch_opts def;
	if (!o) {
		layer_fetch_opts_default(&def);
		o = &def;
	}
	diag_clear(d);
	memset(ret, 0, sizeof(*ret));
	if (expected_digest) {
		int err = layer_digest_parse(expected_digest, &dg, d);
		if (err < 0) {
			diag_prefix(d, "layer \"%s\"", expected_digest);
			return err;
		}
	}
	return layer_scan_src(&src.base, expected_digest ? dg.str : "(local)", expected_digest ? &dg : NULL, o, want,
	                      want_ctx, ret, d, NULL);
}

/* rpm: rpm databases anywhere in a layer (BerkeleyDB hash "Packages", SQLite "rpmdb.sqlite",
 * NDB "Packages.db") -> one package per header blob (claircore internal/rpm). Also the
 * rhel-package-scanner, which reads the same databases (without the dnf history hints). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/log.h"
#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"
#include "scanner/indexer/scanners/scanners_fuzz.h"
#include "scanner/indexer/scanners/util.h"

#define RPM_MAX_PKGS 100000

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* ---- header blob ---- */

enum {
	TAG_SIGPGP = 259,
	TAG_NAME = 1000,
	TAG_VERSION = 1001,
	TAG_RELEASE = 1002,
	TAG_EPOCH = 1003,
	TAG_ARCH = 1022,
	TAG_SOURCERPM = 1044,
	TAG_PAYLOADDIGEST = 5092,
	TAG_PAYLOADDIGESTALGO = 5093,
	TAG_MODULARITYLABEL = 5096,
};
enum { T_INT32 = 4, T_STRING = 6, T_BIN = 7, T_STRING_ARRAY = 8, T_I18NSTRING = 9 };

struct rpm_hdr {
	const char *name, *version, *release, *arch, *sourcerpm, *digest, *module;
	int has_epoch;
	uint32_t epoch, digest_algo;
	const uint8_t *sig;
	size_t sig_len;
};

/* first string at data[off..dl) */
static const char *hdr_str(const uint8_t *data, uint32_t dl, uint32_t off)
{
	if (off >= dl || !memchr(data + off, 0, dl - off))
		return NULL;
	return (const char *)data + off;
}

static int hdr_parse(const uint8_t *b, size_t n, struct rpm_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (n < 8)
		return -EINVAL;
	uint32_t il = be32(b), dl = be32(b + 4);
	if (il == 0 || il > 0xFFFF || dl > 0x0FFFFFFF)
		return -EINVAL;
	uint64_t need = 8 + (uint64_t)il * 16 + dl;
	if (need > n)
		return -EINVAL;
	const uint8_t *data = b + 8 + (size_t)il * 16;
	for (uint32_t i = 0; i < il; i++) {
		const uint8_t *e = b + 8 + (size_t)i * 16;
		uint32_t tag = be32(e), type = be32(e + 4), off = be32(e + 8), cnt = be32(e + 12);
		const char **sp = NULL;
		switch (tag) {
		case TAG_NAME:
			sp = &h->name;
			break;
		case TAG_VERSION:
			sp = &h->version;
			break;
		case TAG_RELEASE:
			sp = &h->release;
			break;
		case TAG_ARCH:
			sp = &h->arch;
			break;
		case TAG_SOURCERPM:
			sp = &h->sourcerpm;
			break;
		case TAG_MODULARITYLABEL:
			sp = &h->module;
			break;
		case TAG_PAYLOADDIGEST:
			sp = &h->digest;
			break;
		case TAG_EPOCH:
		case TAG_PAYLOADDIGESTALGO:
			if (type != T_INT32 || cnt < 1 || off > dl || dl - off < 4)
				return -EINVAL;
			if (tag == TAG_EPOCH) {
				h->has_epoch = 1;
				h->epoch = be32(data + off);
			} else {
				h->digest_algo = be32(data + off);
			}
			continue;
		case TAG_SIGPGP:
			if (type != T_BIN || off > dl || cnt > dl - off)
				return -EINVAL;
			h->sig = data + off;
			h->sig_len = cnt;
			continue;
		default:
			continue;
		}
		if (type != T_STRING && type != T_STRING_ARRAY && type != T_I18NSTRING)
			return -EINVAL;
		if (!(*sp = hdr_str(data, dl, off)))
			return -EINVAL;
	}
	return 0;
}

/* Issuer key id of the first type-0 signature packet (the last such, as claircore's loop). */
static int pgp_keyid(const uint8_t *p, size_t n, char out[17])
{
	int found = 0;
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i++];
		if (!(c & 0x80))
			break;
		unsigned tag;
		size_t len;
		if (c & 0x40) {
			tag = c & 0x3f;
			if (i >= n)
				break;
			uint8_t l0 = p[i++];
			if (l0 < 192) {
				len = l0;
			} else if (l0 < 224) {
				if (i >= n)
					break;
				len = ((size_t)(l0 - 192) << 8) + p[i++] + 192;
			} else if (l0 == 255) {
				if (n - i < 4)
					break;
				len = be32(p + i);
				i += 4;
			} else {
				break; /* partial lengths: not in rpm signatures */
			}
		} else {
			tag = (c >> 2) & 0xf;
			switch (c & 3) {
			case 0:
				if (i >= n)
					return found;
				len = p[i++];
				break;
			case 1:
				if (n - i < 2)
					return found;
				len = (size_t)p[i] << 8 | p[i + 1];
				i += 2;
				break;
			case 2:
				if (n - i < 4)
					return found;
				len = be32(p + i);
				i += 4;
				break;
			default:
				len = n - i;
			}
		}
		if (len > n - i)
			break;
		const uint8_t *body = p + i;
		i += len;
		if (tag != 2 || len < 1)
			continue;
		const uint8_t *kid = NULL;
		if ((body[0] == 3 || body[0] == 2) && len >= 15) {
			if (body[2] != 0)
				continue;
			kid = body + 7;
		} else if (body[0] == 4 && len >= 6) {
			if (body[1] != 0)
				continue;
			size_t q = 4;
			for (int area = 0; area < 2 && !kid; area++) {
				if (len - q < 2)
					break;
				size_t al = (size_t)body[q] << 8 | body[q + 1];
				q += 2;
				if (al > len - q)
					break;
				size_t s = q, end = q + al;
				while (s < end) {
					size_t sl;
					uint8_t l0 = body[s++];
					if (l0 < 192) {
						sl = l0;
					} else if (l0 < 255) {
						if (s >= end)
							break;
						sl = ((size_t)(l0 - 192) << 8) + body[s++] + 192;
					} else {
						if (end - s < 4)
							break;
						sl = be32(body + s);
						s += 4;
					}
					if (sl == 0 || sl > end - s)
						break;
					if ((body[s] & 0x7f) == 16 && sl == 9)
						kid = body + s + 1;
					s += sl;
				}
				q = end;
			}
		}
		if (kid) {
			static const char hx[] = "0123456789abcdef";
			for (int k = 0; k < 8; k++) {
				out[2 * k] = hx[kid[k] >> 4];
				out[2 * k + 1] = hx[kid[k] & 15];
			}
			out[16] = 0;
			found = 1;
		}
	}
	return found;
}

static void query_escape(const char *s, char *out, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s && o + 4 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_' || c == '.' || c == '~') {
			out[o++] = (char)c;
		} else if (c == ' ') {
			out[o++] = '+';
		} else {
			out[o++] = '%';
			out[o++] = hx[c >> 4];
			out[o++] = hx[c & 15];
		}
	}
	out[o] = 0;
}

int rpm_header_add(const uint8_t *blob, size_t n, const char *package_db, struct scan_result *out)
{
	struct rpm_hdr h;
	if (hdr_parse(blob, n, &h) < 0)
		return -EINVAL;
	if (!h.name || !*h.name)
		return -EINVAL;
	if (strcmp(h.name, "gpg-pubkey") == 0)
		return 0;
	char evr[1024], module[512] = "", hint[512] = "", keyid[17];
	const char *ver = h.version ? h.version : "", *rel = h.release ? h.release : "";
	if (h.has_epoch && h.epoch != 0)
		snprintf(evr, sizeof(evr), "%u:%s-%s", h.epoch, ver, rel);
	else
		snprintf(evr, sizeof(evr), "%s-%s", ver, rel);
	if (h.module) {
		const char *c1 = strchr(h.module, ':');
		const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 && (size_t)(c2 - h.module) < sizeof(module)) {
			memcpy(module, h.module, (size_t)(c2 - h.module));
			module[c2 - h.module] = 0;
		}
	}
	/* url.Values.Encode(): keys sorted (hash < key) */
	if (h.digest && *h.digest && h.digest_algo == 8) {
		char tmp[400], esc[420];
		snprintf(tmp, sizeof(tmp), "sha256:%s", h.digest);
		query_escape(tmp, esc, sizeof(esc));
		snprintf(hint, sizeof(hint), "hash=%s", esc);
	}
	if (h.sig && pgp_keyid(h.sig, h.sig_len, keyid)) {
		size_t l = strlen(hint);
		snprintf(hint + l, sizeof(hint) - l, "%skey=%s", l ? "&" : "", keyid);
	}
	/* source: SOURCERPM minus .rpm/.src/.nosrc, parsed as N-V-R */
	char src[512] = "", src_name[512] = "", src_evr[512] = "";
	if (h.sourcerpm && *h.sourcerpm && strcmp(h.sourcerpm, "(none)") != 0 &&
	    strlen(h.sourcerpm) < sizeof(src)) {
		memcpy(src, h.sourcerpm, strlen(h.sourcerpm) + 1);
		static const char *const sfx[] = {".rpm", ".src", ".nosrc"};
		for (size_t k = 0; k < 3; k++) {
			size_t l = strlen(src), sl = strlen(sfx[k]);
			if (l >= sl && strcmp(src + l - sl, sfx[k]) == 0)
				src[l - sl] = 0;
		}
		char *r = strrchr(src, '-');
		char *v = NULL;
		if (r) {
			*r = 0;
			v = strrchr(src, '-');
			*r = '-';
		}
		if (r && v && v > src) {
			memcpy(src_name, src, (size_t)(v - src));
			src_name[v - src] = 0;
			const char *vs = v + 1;
			/* an explicit epoch of 0 is dropped like EVR() does */
			if (strncmp(vs, "0:", 2) == 0)
				vs += 2;
			snprintf(src_evr, sizeof(src_evr), "%s", vs);
		}
	}
	struct idx_package p = {
		.name = (char *)h.name,
		.version = evr,
		.kind = "binary",
		.arch = (char *)(h.arch ? h.arch : ""),
		.module = module,
		.package_db = (char *)package_db,
		.repository_hint = hint,
		.src_name = src_name,
		.src_version = src_name[0] ? src_evr : "",
	};
	return scan_result_add_package(out, &p);
}

/* ---- BerkeleyDB hash ---- */

struct bdb {
	const uint8_t *b;
	size_t n;
	int be;
	uint32_t psz;
	uint64_t npages;
};

static uint32_t bdb32(const struct bdb *db, const uint8_t *p)
{
	return db->be ? be32(p) : le32(p);
}
static uint32_t bdb16(const struct bdb *db, const uint8_t *p)
{
	return db->be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}
static const uint8_t *bdb_page(const struct bdb *db, uint32_t pg)
{
	if ((uint64_t)pg >= db->npages)
		return NULL;
	return db->b + (size_t)pg * db->psz;
}

#define BDB_PAGE_HDR 26
#define P_OVERFLOW 7
#define P_HASH_UNSORTED 2
#define P_HASH 13
#define P_HASHMETA 8

static int bdb_overflow(const struct bdb *db, uint32_t pg, uint32_t tlen, uint8_t **ret)
{
	if (tlen > db->n)
		return -EINVAL;
	uint8_t *buf = malloc(tlen ? tlen : 1);
	if (!buf)
		return -ENOMEM;
	size_t got = 0;
	uint64_t hops = 0;
	while (got < tlen) {
		const uint8_t *p = bdb_page(db, pg);
		if (!p || ++hops > db->npages || p[25] != P_OVERFLOW)
			goto bad;
		uint32_t used = bdb16(db, p + 22);
		if (used > db->psz - BDB_PAGE_HDR || used > tlen - got)
			goto bad;
		memcpy(buf + got, p + BDB_PAGE_HDR, used);
		got += used;
		if (used == 0 && got < tlen)
			goto bad;
		pg = bdb32(db, p + 16);
	}
	*ret = buf;
	return 0;
bad:
	free(buf);
	return -EINVAL;
}

int rpm_bdb_foreach(const uint8_t *b, size_t n, rpm_blob_cb cb, void *arg)
{
	struct bdb db = {.b = b, .n = n};
	if (n < 512)
		return -EINVAL;
	uint32_t magic = le32(b + 12);
	if (magic == 0x00061561)
		db.be = 0;
	else if (be32(b + 12) == 0x00061561)
		db.be = 1;
	else
		return -EINVAL;
	db.psz = bdb32(&db, b + 20);
	int ok = 0;
	for (int k = 0; k < 8; k++)
		if (db.psz == 512u << k)
			ok = 1;
	if (!ok || b[25] != P_HASHMETA || b[24] != 0 || db.psz > n)
		return -EINVAL;
	db.npages = n / db.psz;
	uint32_t max_bucket = bdb32(&db, b + 72);
	if ((uint64_t)max_bucket >= db.npages)
		return -EINVAL;
	for (uint64_t bucket = 0; bucket <= max_bucket; bucket++) {
		int bl = 0;
		for (uint64_t v = bucket; v; v >>= 1)
			bl++;
		if (bl >= 32)
			return -EINVAL;
		uint64_t pg = bucket + bdb32(&db, b + 96 + 4 * bl);
		uint64_t hops = 0;
		while (pg != 0) {
			if (pg >= db.npages || ++hops > db.npages)
				return -EINVAL;
			const uint8_t *p = bdb_page(&db, (uint32_t)pg);
			if (p[25] != P_HASH && p[25] != P_HASH_UNSORTED)
				return -EINVAL;
			uint32_t entries = bdb16(&db, p + 20);
			if (BDB_PAGE_HDR + (uint64_t)entries * 2 > db.psz)
				return -EINVAL;
			for (uint32_t e = 0; e + 1 < entries; e += 2) {
				uint32_t koff = bdb16(&db, p + BDB_PAGE_HDR + 2 * e);
				uint32_t voff = bdb16(&db, p + BDB_PAGE_HDR + 2 * (e + 1));
				uint32_t kend = e == 0 ? db.psz : bdb16(&db, p + BDB_PAGE_HDR + 2 * (e - 1));
				if (koff >= db.psz || voff >= db.psz || kend > db.psz || koff >= kend || voff >= koff)
					return -EINVAL;
				/* key: record 0 (four zero bytes) holds rpm's instance counter */
				if (p[koff] == 1 && kend - koff == 5 && memcmp(p + koff + 1, "\0\0\0\0", 4) == 0)
					continue;
				uint8_t vt = p[voff];
				int rc;
				if (vt == 1) {
					rc = cb(p + voff + 1, koff - voff - 1, arg);
				} else if (vt == 3) {
					if (db.psz - voff < 12)
						return -EINVAL;
					uint8_t *buf = NULL;
					rc = bdb_overflow(&db, bdb32(&db, p + voff + 4), bdb32(&db, p + voff + 8), &buf);
					if (rc < 0)
						return rc;
					rc = cb(buf, bdb32(&db, p + voff + 8), arg);
					free(buf);
				} else {
					return -EINVAL; /* duplicates / blobs: not in rpm databases */
				}
				if (rc < 0)
					return rc;
			}
			pg = bdb32(&db, p + 16);
		}
	}
	return 0;
}

/* ---- NDB ---- */

static uint32_t adler32(const uint8_t *p, size_t n)
{
	uint32_t a = 1, b = 0;
	while (n) {
		size_t k = n < 5552 ? n : 5552;
		n -= k;
		while (k--) {
			a += *p++;
			b += a;
		}
		a %= 65521;
		b %= 65521;
	}
	return b << 16 | a;
}

int rpm_ndb_foreach(const uint8_t *b, size_t n, rpm_blob_cb cb, void *arg)
{
	if (n < 32 || (memcmp(b, "RpmP", 4) != 0 && memcmp(b, "RpmX", 4) != 0) || le32(b + 4) != 0)
		return -EINVAL;
	uint64_t npages = le32(b + 12);
	uint32_t next = le32(b + 16);
	uint64_t end = npages * 4096;
	if (end > n)
		return -EINVAL;
	for (uint64_t off = 32; off + 16 <= end; off += 16) {
		const uint8_t *s = b + off;
		if (memcmp(s, "Slot", 4) != 0)
			return -EINVAL;
		uint64_t boff = (uint64_t)le32(s + 8) * 16, bcnt = (uint64_t)le32(s + 12) * 16;
		uint32_t idx = le32(s + 4);
		if (boff == 0)
			continue;
		if (bcnt < 32 || boff + bcnt > n)
			return -EINVAL;
		const uint8_t *h = b + boff, *t = b + boff + bcnt - 12;
		if (memcmp(h, "BlbS", 4) != 0 || memcmp(t + 8, "BlbE", 4) != 0)
			return -EINVAL;
		uint32_t len = le32(h + 12);
		if (len != le32(t + 4) || (uint64_t)len + 28 > bcnt)
			return -EINVAL;
		if (adler32(h, bcnt - 12) != le32(t))
			return -EINVAL;
		int rc = cb(h + 16, len, arg);
		if (rc < 0)
			return rc;
		if (next && idx == next - 1)
			break;
	}
	return 0;
}

/* ---- SQLite ---- */

int rpm_sqlite_foreach(const uint8_t *b, size_t n, rpm_blob_cb cb, void *arg)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -EINVAL;
	if (n < 100 || memcmp(b, "SQLite format 3", 16) != 0)
		return -EINVAL;
	unsigned char *copy = sqlite3_malloc64(n);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, b, n);
	/* WAL databases (rpm's default) cannot be deserialized: mark them rollback-journal */
	if (copy[18] == 2)
		copy[18] = 1;
	if (copy[19] == 2)
		copy[19] = 1;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_free(copy);
		goto out;
	}
	if (sqlite3_deserialize(db, "main", copy, (sqlite3_int64)n, (sqlite3_int64)n,
				SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY) != SQLITE_OK)
		goto out;
	sqlite3_exec(db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db, "SELECT hnum, blob FROM Packages ORDER BY hnum", -1, &st, NULL) != SQLITE_OK)
		goto out;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(st, 1);
		int bl = sqlite3_column_bytes(st, 1);
		if (!blob || bl <= 0)
			continue;
		int r = cb(blob, (size_t)bl, arg);
		if (r < 0) {
			rc = r;
			goto out;
		}
	}
	rc = s == SQLITE_DONE ? 0 : -EINVAL;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* ---- scanner ---- */

static int rpm_want(const char *path, int is_dir)
{
	if (is_dir)
		return 0;
	const char *b = scutil_base(path);
	return strcmp(b, "Packages") == 0 || strcmp(b, "rpmdb.sqlite") == 0 || strcmp(b, "Packages.db") == 0;
}

struct blob_ctx {
	struct scan_result *out;
	const char *db;
	size_t bad, count;
};

static int blob_cb(const uint8_t *blob, size_t n, void *arg)
{
	struct blob_ctx *c = arg;
	if (++c->count > RPM_MAX_PKGS)
		return -E2BIG;
	int rc = rpm_header_add(blob, n, c->db, c->out);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		c->bad++;
	return 0;
}

static int rpm_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	for (size_t i = 0; i < files->n_files; i++) {
		const struct layer_file *f = &files->files[i];
		if (f->type != LAYER_FILE_REG || !rpm_want(f->path, 0))
			continue;
		const char *b = scutil_base(f->path);
		const char *kind;
		int (*each)(const uint8_t *, size_t, rpm_blob_cb, void *);
		if (strcmp(b, "Packages") == 0) {
			if (f->len < 16 || (le32(f->data + 12) != 0x00061561 && be32(f->data + 12) != 0x00061561))
				continue;
			kind = "bdb";
			each = rpm_bdb_foreach;
		} else if (strcmp(b, "rpmdb.sqlite") == 0) {
			kind = "sqlite";
			each = rpm_sqlite_foreach;
		} else {
			if (f->len < 4 || (memcmp(f->data, "RpmP", 4) != 0 && memcmp(f->data, "RpmX", 4) != 0))
				continue;
			kind = "ndb";
			each = rpm_ndb_foreach;
		}
		size_t dl = (size_t)(b - f->path);
		if (dl)
			dl--; /* no trailing slash */
		char *pdb = malloc(strlen(kind) + 1 + dl + 1);
		if (!pdb)
			return -ENOMEM;
		snprintf(pdb, strlen(kind) + 1 + dl + 1, "%s:%.*s", kind, (int)dl, f->path);
		size_t base = out->n_pkgs;
		struct blob_ctx c = {.out = out, .db = pdb};
		int rc = each(f->data, f->len, blob_cb, &c);
		if (rc == -ENOMEM) {
			free(pdb);
			return rc;
		}
		if (rc < 0) {
			log_warn("indexer", "rpm: corrupt database skipped", "{s:s,s:s}", "path", f->path, "kind", kind);
			while (out->n_pkgs > base)
				idx_package_release(&out->pkgs[--out->n_pkgs]);
		} else if (c.bad) {
			log_warn("indexer", "rpm: unreadable headers skipped", "{s:s,s:i}", "path", f->path, "count",
				 (int)c.bad);
		}
		free(pdb);
	}
	return 0;
}

const struct scanner_desc scanner_rpm = {
	.name = "rpm",
	.version = "10",
	.kind = SCANNER_PACKAGE,
	.ecosystem = "rpm",
	.want = rpm_want,
	.scan = rpm_scan,
};

/* claircore's rhel-package-scanner: the same databases; the dnf history repoid hints are not
 * implemented (packages carry no "repoid=" hint, so the rhel coalescer attaches every Red Hat
 * repository of the layer). */
const struct scanner_desc scanner_rhel_pkg = {
	.name = "rhel-package-scanner",
	.version = "1",
	.kind = SCANNER_PACKAGE,
	.ecosystem = "rhel",
	.want = rpm_want,
	.scan = rpm_scan,
};

/* ---- fuzz entry points ---- */

static int fuzz_cb(const uint8_t *blob, size_t n, void *arg)
{
	return blob_cb(blob, n, arg);
}

int scanners_fuzz_rpm_header(const uint8_t *data, size_t n)
{
	struct scan_result r = {0};
	int rc = rpm_header_add(data, n, "sqlite:var/lib/rpm", &r);
	scan_result_release(&r);
	return rc == -ENOMEM ? rc : 0;
}

static int fuzz_db(int (*each)(const uint8_t *, size_t, rpm_blob_cb, void *), const uint8_t *data, size_t n)
{
	struct scan_result r = {0};
	struct blob_ctx c = {.out = &r, .db = "x:var/lib/rpm"};
	int rc = each(data, n, fuzz_cb, &c);
	scan_result_release(&r);
	return rc == -ENOMEM ? rc : 0;
}

int scanners_fuzz_rpm_bdb(const uint8_t *data, size_t n)
{
	return fuzz_db(rpm_bdb_foreach, data, n);
}
int scanners_fuzz_rpm_ndb(const uint8_t *data, size_t n)
{
	return fuzz_db(rpm_ndb_foreach, data, n);
}
int scanners_fuzz_rpm_sqlite(const uint8_t *data, size_t n)
{
	return fuzz_db(rpm_sqlite_foreach, data, n);
}

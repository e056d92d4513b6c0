/* jsonblob: Clair's NDJSON updater export (see jsonblob.h). */
#include "scanner/matcher/jsonblob.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"

#define LINE_MAX_BYTES ((size_t)64 << 20)
#define ZERO_TIME "0001-01-01T00:00:00Z"

enum jsonblob_compression jsonblob_compression_for_path(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	if (n > 3 && !strcmp(path + n - 3, ".gz"))
		return JSONBLOB_GZIP;
	if (n > 4 && !strcmp(path + n - 4, ".zst"))
		return JSONBLOB_ZSTD;
	return JSONBLOB_PLAIN;
}

static const char *s_or_empty(const char *s)
{
	return s ? s : "";
}

static int set_str(json_t *o, const char *k, const char *v)
{
	return json_object_set_new(o, k, json_string(s_or_empty(v)));
}

static void set_opt(json_t *o, const char *k, const char *v)
{
	if (v && *v)
		json_object_set_new(o, k, json_string(v));
}

json_t *jsonblob_vuln_to_json(const struct vuln *v)
{
	json_t *o = json_object(), *p = json_object(), *dist = NULL, *repo = NULL;
	char id[32];
	if (!o || !p)
		goto oom;
	snprintf(id, sizeof(id), "%lld", (long long)v->id);
	set_str(o, "id", v->id ? id : "");
	set_str(o, "updater", v->updater);
	set_str(o, "name", v->name);
	set_str(o, "description", v->description);
	set_str(o, "issued", v->issued && *v->issued ? v->issued : ZERO_TIME);
	set_str(o, "links", v->links);
	set_str(o, "severity", v->severity);
	set_str(o, "normalized_severity", severity_name(v->normalized_severity));
	set_str(p, "id", "");
	set_str(p, "name", v->pkg.name);
	set_str(p, "version", v->pkg.version);
	set_opt(p, "kind", v->pkg.kind);
	set_opt(p, "module", v->pkg.module);
	set_opt(p, "arch", v->pkg.arch);
	json_object_set_new(o, "package", p);
	p = NULL;
	const char *dv[] = {v->dist.did,        v->dist.name, v->dist.version, v->dist.version_code_name,
	                    v->dist.version_id, v->dist.arch, v->dist.cpe,     v->dist.pretty_name};
	static const char *const dk[] = {"did",        "name", "version", "version_code_name",
	                                 "version_id", "arch", "cpe",     "pretty_name"};
	for (size_t i = 0; i < 8; i++)
		if (dv[i] && *dv[i]) {
			if (!(dist = json_object()))
				goto oom;
			set_str(dist, "id", "");
			for (size_t k = 0; k < 8; k++)
				set_str(dist, dk[k], dv[k]);
			json_object_set_new(o, "distribution", dist);
			break;
		}
	if ((v->repo.name && *v->repo.name) || (v->repo.key && *v->repo.key) || (v->repo.uri && *v->repo.uri)) {
		if (!(repo = json_object()))
			goto oom;
		set_str(repo, "id", "");
		set_str(repo, "name", v->repo.name);
		set_str(repo, "key", v->repo.key);
		set_str(repo, "uri", v->repo.uri);
		json_object_set_new(o, "repository", repo);
	}
	set_str(o, "fixed_in_version", v->fixed_in_version);
	set_opt(o, "arch_op", v->arch_op);
	set_opt(o, "range_introduced", v->range_introduced);
	set_opt(o, "range_fixed", v->range_fixed);
	set_opt(o, "range_last_affected", v->range_last_affected);
	set_opt(o, "version_kind", v->version_kind);
	return o;
oom:
	json_decref(o);
	json_decref(p);
	return NULL;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

int jsonblob_vuln_from_json(const json_t *j, struct vuln *ret, struct diag *d)
{
	struct vuln v = {0};
	const json_t *p, *dist, *repo;
	const char *issued;
	int r;
	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(j))
		return diag_fail(d, -EINVAL, "Vuln is not an object");
	p = json_object_get(j, "package");
	dist = json_object_get(j, "distribution");
	repo = json_object_get(j, "repository");
	v.updater = (char *)jstr(j, "updater");
	v.name = (char *)jstr(j, "name");
	v.description = (char *)jstr(j, "description");
	issued = jstr(j, "issued");
	v.issued = (char *)(strcmp(issued, ZERO_TIME) ? issued : "");
	v.links = (char *)jstr(j, "links");
	v.severity = (char *)jstr(j, "severity");
	if (severity_parse(jstr(j, "normalized_severity"), &v.normalized_severity) < 0)
		v.normalized_severity = SEV_UNKNOWN;
	v.pkg.name = (char *)jstr(p, "name");
	v.pkg.version = (char *)jstr(p, "version");
	v.pkg.module = (char *)jstr(p, "module");
	v.pkg.arch = (char *)jstr(p, "arch");
	v.pkg.kind = (char *)jstr(p, "kind");
	v.dist.did = (char *)jstr(dist, "did");
	v.dist.name = (char *)jstr(dist, "name");
	v.dist.version = (char *)jstr(dist, "version");
	v.dist.version_code_name = (char *)jstr(dist, "version_code_name");
	v.dist.version_id = (char *)jstr(dist, "version_id");
	v.dist.arch = (char *)jstr(dist, "arch");
	v.dist.cpe = (char *)jstr(dist, "cpe");
	v.dist.pretty_name = (char *)jstr(dist, "pretty_name");
	v.repo.name = (char *)jstr(repo, "name");
	v.repo.key = (char *)jstr(repo, "key");
	v.repo.uri = (char *)jstr(repo, "uri");
	v.fixed_in_version = (char *)jstr(j, "fixed_in_version");
	v.arch_op = (char *)jstr(j, "arch_op");
	v.range_introduced = (char *)jstr(j, "range_introduced");
	v.range_fixed = (char *)jstr(j, "range_fixed");
	v.range_last_affected = (char *)jstr(j, "range_last_affected");
	v.version_kind = (char *)jstr(j, "version_kind");
	if ((r = vuln_copy(ret, &v)) < 0)
		return diag_fail(d, r, "out of memory");
	return 0;
}

/* ---------------------------------------------------------------- writer */

struct jsonblob_writer {
	struct archive *a;
	struct archive_entry *e;
	int fd;
	bool own_fd;
	struct buf line;
	int err;
};

static int aw_fail(struct jsonblob_writer *w, struct diag *d, const char *what)
{
	const char *m = w->a ? archive_error_string(w->a) : NULL;
	w->err = -EIO;
	return diag_fail(d, -EIO, "%s: %s", what, m ? m : "write error");
}

int jsonblob_writer_open(const char *path, enum jsonblob_compression c, struct jsonblob_writer **ret, struct diag *d)
{
	struct jsonblob_writer *w = calloc(1, sizeof(*w));
	int r = 0;
	*ret = NULL;
	if (!w)
		return diag_fail(d, -ENOMEM, "out of memory");
	buf_init(&w->line, 0);
	if (!path || !strcmp(path, "-")) {
		w->fd = STDOUT_FILENO;
	} else {
		w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (w->fd < 0) {
			r = diag_fail(d, -errno, "%s: %s", path, strerror(errno));
			free(w);
			return r;
		}
		w->own_fd = true;
	}
	if (!(w->a = archive_write_new()) || !(w->e = archive_entry_new())) {
		r = diag_fail(d, -ENOMEM, "out of memory");
		goto fail;
	}
	archive_write_set_format_raw(w->a);
	if ((c == JSONBLOB_GZIP && archive_write_add_filter_gzip(w->a) != ARCHIVE_OK) ||
	    (c == JSONBLOB_ZSTD && archive_write_add_filter_zstd(w->a) != ARCHIVE_OK)) {
		r = aw_fail(w, d, "compression");
		goto fail;
	}
	archive_write_set_bytes_in_last_block(w->a, 1);
	if (archive_write_open_fd(w->a, w->fd) != ARCHIVE_OK) {
		r = aw_fail(w, d, "open output");
		goto fail;
	}
	archive_entry_set_pathname(w->e, "data");
	archive_entry_set_filetype(w->e, AE_IFREG);
	archive_entry_set_perm(w->e, 0644);
	if (archive_write_header(w->a, w->e) != ARCHIVE_OK) {
		r = aw_fail(w, d, "write header");
		goto fail;
	}
	*ret = w;
	return 0;
fail:
	w->err = r;
	jsonblob_writer_close(w, NULL);
	return r;
}

int jsonblob_write_vuln(struct jsonblob_writer *w, const struct jsonblob_op_hdr *h, const struct vuln *v,
                        struct diag *d)
{
	json_t *o = json_object(), *vj = jsonblob_vuln_to_json(v);
	char *s = NULL;
	int r = 0;
	if (w->err)
		return diag_fail(d, w->err, "writer failed earlier");
	if (!o || !vj) {
		r = diag_fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	set_str(o, "Updater", h->updater);
	set_str(o, "Fingerprint", h->fingerprint);
	set_str(o, "Date", h->date);
	set_str(o, "Ref", h->ref);
	json_object_set_new(o, "Vuln", vj);
	vj = NULL;
	set_str(o, "Kind", "vulnerability");
	if (!(s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		r = diag_fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	size_t n = strlen(s);
	s[n] = '\n';
	if (archive_write_data(w->a, s, n + 1) != (la_ssize_t)(n + 1))
		r = aw_fail(w, d, "write");
out:
	free(s);
	json_decref(o);
	json_decref(vj);
	return r;
}

int jsonblob_writer_close(struct jsonblob_writer *w, struct diag *d)
{
	int r = 0;
	if (!w)
		return 0;
	if (w->a) {
		if (archive_write_close(w->a) != ARCHIVE_OK && !w->err)
			r = aw_fail(w, d, "close");
		archive_write_free(w->a);
	}
	archive_entry_free(w->e);
	if (w->own_fd && close(w->fd) < 0 && !r && !w->err)
		r = diag_fail(d, -errno, "close: %s", strerror(errno));
	if (!r && w->err)
		r = w->err;
	buf_release(&w->line);
	free(w);
	return r;
}

/* ---------------------------------------------------------------- reader */

struct jsonblob_reader {
	struct archive *a;
	char blk[65536];
	size_t pos, len;
	bool eof;
	struct buf line;
	size_t lineno;
};

int jsonblob_reader_open(const char *path, struct jsonblob_reader **ret, struct diag *d)
{
	struct jsonblob_reader *r = calloc(1, sizeof(*r));
	struct archive_entry *e;
	int rc;
	*ret = NULL;
	if (!r || !(r->a = archive_read_new())) {
		free(r);
		return diag_fail(d, -ENOMEM, "out of memory");
	}
	buf_init(&r->line, LINE_MAX_BYTES);
	archive_read_support_filter_all(r->a);
	archive_read_support_format_raw(r->a);
	archive_read_support_format_empty(r->a);
	if (!strcmp(path, "-"))
		rc = archive_read_open_fd(r->a, STDIN_FILENO, 65536);
	else
		rc = archive_read_open_filename(r->a, path, 65536);
	if (rc == ARCHIVE_OK) {
		rc = archive_read_next_header(r->a, &e);
		if (rc == ARCHIVE_EOF) {
			r->eof = true;
			rc = ARCHIVE_OK;
		}
	}
	if (rc != ARCHIVE_OK) {
		const char *m = archive_error_string(r->a);
		diag_set(d, "%s: %s", path, m ? m : "cannot open");
		jsonblob_reader_close(r);
		return -EINVAL;
	}
	*ret = r;
	return 0;
}

void jsonblob_reader_close(struct jsonblob_reader *r)
{
	if (!r)
		return;
	archive_read_free(r->a);
	buf_release(&r->line);
	free(r);
}

void jsonblob_record_release(struct jsonblob_record *rec)
{
	free(rec->updater);
	free(rec->fingerprint);
	free(rec->date);
	free(rec->ref);
	free(rec->kind);
	if (rec->has_vuln)
		vuln_release(&rec->vuln);
	memset(rec, 0, sizeof(*rec));
}

/* next line into r->line; 1, 0 at end, <0 */
static int next_line(struct jsonblob_reader *r, struct diag *d)
{
	buf_reset(&r->line);
	for (;;) {
		if (r->pos == r->len) {
			if (r->eof)
				return r->line.len ? 1 : 0;
			la_ssize_t n = archive_read_data(r->a, r->blk, sizeof(r->blk));
			if (n < 0) {
				const char *m = archive_error_string(r->a);
				return diag_fail(d, -EINVAL, "read: %s", m ? m : "bad data");
			}
			if (n == 0) {
				r->eof = true;
				continue;
			}
			r->pos = 0;
			r->len = (size_t)n;
		}
		char *nl = memchr(r->blk + r->pos, '\n', r->len - r->pos);
		size_t take = nl ? (size_t)(nl - (r->blk + r->pos)) : r->len - r->pos;
		if (buf_append(&r->line, r->blk + r->pos, take) < 0)
			return diag_fail(d, -EFBIG, "line %zu: longer than %zu bytes", r->lineno + 1, LINE_MAX_BYTES);
		r->pos += take;
		if (nl) {
			r->pos++;
			return 1;
		}
	}
}

int jsonblob_read(struct jsonblob_reader *r, struct jsonblob_record *rec, struct diag *d)
{
	json_t *j = NULL;
	json_error_t je;
	int rc;
	memset(rec, 0, sizeof(*rec));
	for (;;) {
		if ((rc = next_line(r, d)) <= 0)
			return rc;
		r->lineno++;
		size_t i = 0;
		while (i < r->line.len &&
		       (r->line.data[i] == ' ' || r->line.data[i] == '\t' || r->line.data[i] == '\r'))
			i++;
		if (i < r->line.len)
			break;
	}
	if (!(j = json_loadb(r->line.data, r->line.len, 0, &je)) || !json_is_object(j)) {
		rc = diag_fail(d, -EINVAL, "line %zu: %s", r->lineno, j ? "not an object" : je.text);
		goto out;
	}
	rec->updater = strdup(jstr(j, "Updater"));
	rec->fingerprint = strdup(jstr(j, "Fingerprint"));
	rec->date = strdup(jstr(j, "Date"));
	rec->ref = strdup(jstr(j, "Ref"));
	rec->kind = strdup(*jstr(j, "Kind") ? jstr(j, "Kind") : "vulnerability");
	if (!rec->updater || !rec->fingerprint || !rec->date || !rec->ref || !rec->kind) {
		rc = diag_fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	if (!*rec->updater) {
		rc = diag_fail(d, -EINVAL, "line %zu: no Updater", r->lineno);
		goto out;
	}
	const json_t *vj = json_object_get(j, "Vuln");
	if (vj && !json_is_null(vj)) {
		if ((rc = jsonblob_vuln_from_json(vj, &rec->vuln, d)) < 0) {
			diag_prefix(d, "line %zu", r->lineno);
			goto out;
		}
		rec->has_vuln = true;
	}
	rc = 1;
out:
	json_decref(j);
	if (rc < 0)
		jsonblob_record_release(rec);
	return rc;
}

void jsonblob_new_ref(char out[37])
{
	unsigned char b[16];
	static const char hex[] = "0123456789abcdef";
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		for (int i = 0; i < 16; i++)
			b[i] = (unsigned char)((uint64_t)ts.tv_nsec >> (i % 8 * 8) ^
			                       (uint64_t)ts.tv_sec >> (i % 4 * 8) ^ (unsigned)rand());
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

void jsonblob_now(char out[40])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

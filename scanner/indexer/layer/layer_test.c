/* Local tests of the layer reader: paths, digests, compression kinds, links, whiteouts, hostile
 * tars, caps, memory. HTTP is in fetch_test.c. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "common/log.h"
#include "scanner/indexer/layer/layer.h"
#include "scanner/indexer/layer/layer_testutil.h"

static const char *const WANT[] = {"etc/os-release",
                                   "var/lib/dpkg/status",
                                   "var/lib/dpkg/info/",
                                   "etc/passwd",
                                   "abs/file",
                                   "a/c",
                                   "big",
                                   "lib/apk/db/installed",
                                   "hl",
                                   "loop1",
                                   "escape",
                                   "etc/redhat-release",
                                   "usr/share/x",
                                   NULL};

/* Scans buf with default options (or o) and expects rc. */
static int scan_buf(const struct tbuf *b, const char *digest, const struct layer_fetch_opts *o, struct layer_files *ret,
                    struct diag *d)
{
	int fd = tfd(b->p, b->len);
	int rc = layer_scan_fd(fd, digest, o, twant, (void *)WANT, ret, d);
	close(fd);
	return rc;
}

static const char *file_text(const struct layer_files *f, const char *path)
{
	const struct layer_file *lf = layer_files_get(f, path);
	return lf && lf->type == LAYER_FILE_REG ? (const char *)lf->data : "(missing)";
}

static void test_path_normalize(void **state)
{
	(void)state;
	static const char *cases[][2] = {
	    {"/etc/passwd", "etc/passwd"},
	    {"./etc/passwd", "etc/passwd"},
	    {"../../etc/passwd", "etc/passwd"},
	    {"a/./b/../c", "a/c"},
	    {"a//b///c/", "a/b/c"},
	    {"/", ""},
	    {".", ""},
	    {"..", ""},
	    {"a/b/../../..", ""},
	    {"a/../../../b", "b"},
	    {"./.wh..wh..opq", ".wh..wh..opq"},
	    {"a/.../b", "a/.../b"},
	};
	char out[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(layer_path_normalize(cases[i][0], out, sizeof(out)), 0);
		assert_string_equal(out, cases[i][1]);
	}
	assert_int_equal(layer_path_normalize("abcdefgh/ijklmnop", out, 8), -ENAMETOOLONG);
	assert_int_equal(layer_path_normalize(NULL, out, sizeof(out)), -EINVAL);
}

static void test_digest_parse(void **state)
{
	(void)state;
	struct layer_digest dg;
	struct diag d;
	char s[200];
	snprintf(s, sizeof(s), "sha256:%s", "A3ED95CAEB02FFE68CDD9FD84406680AE93D633CB16422D00E8A7C22955B46D4");
	assert_int_equal(layer_digest_parse(s, &dg, &d), 0);
	assert_int_equal(dg.algo, LAYER_DIGEST_SHA256);
	assert_int_equal(dg.len, 32);
	assert_string_equal(dg.str, "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4");
	assert_int_equal(dg.sum[0], 0xa3);
	char h512[129];
	memset(h512, 'f', 128);
	h512[128] = 0;
	snprintf(s, sizeof(s), "sha512:%s", h512);
	assert_int_equal(layer_digest_parse(s, &dg, &d), 0);
	assert_int_equal(dg.algo, LAYER_DIGEST_SHA512);
	assert_int_equal(dg.len, 64);

	static const char *bad[][2] = {
	    {"sha256", "invalid digest format"},
	    {"sha256:abc", "unable to decode digest as hex"},
	    {"sha256:zz", "unable to decode digest as hex"},
	    {"md5:00", "unknown algorthm \"md5\""},
	    {":00", "unknown algorthm \"\""},
	    {"sha256:00", "bad checksum length: 1"},
	    {"sha512:", "bad checksum length: 0"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(layer_digest_parse(bad[i][0], &dg, &d), -EINVAL);
		assert_string_equal(d.msg, bad[i][1]);
	}
}

/* A layer with wanted and unwanted files, whiteouts, a directory, links. */
static struct tbuf build_basic(const char *filter)
{
	struct tarb t;
	tarb_begin(&t, filter);
	tarb_dir(&t, "etc");
	tarb_symlink(&t, "etc/os-release", "../usr/lib/os-release");
	tarb_file(&t, "etc/hostname", "unwanted\n");
	tarb_dir(&t, "var/lib/dpkg/info");
	tarb_file(&t, "var/lib/dpkg/status", "Package: bash\n");
	tarb_file(&t, "var/lib/dpkg/info/bash.list", "/bin/bash\n");
	tarb_file(&t, "opt/.wh.removed", "");
	tarb_file(&t, "opt/app/.wh..wh..opq", "");
	tarb_file(&t, ".wh.toplevel", "");
	tarb_file(&t, "usr/lib/os-release", "ID=debian\n");
	tarb_file(&t, "usr/lib/other", "x");
	return tarb_end(&t);
}

static void check_basic(const struct layer_files *f)
{
	assert_non_null(file_text(f, "etc/os-release"));
	assert_string_equal(file_text(f, "etc/os-release"), "ID=debian\n");
	assert_string_equal(file_text(f, "var/lib/dpkg/status"), "Package: bash\n");
	assert_int_equal(layer_files_get(f, "var/lib/dpkg/status")->len, 14);
	const struct layer_file *dir = layer_files_get(f, "var/lib/dpkg/info");
	assert_non_null(dir);
	assert_int_equal(dir->type, LAYER_FILE_DIR);
	assert_null(layer_files_get(f, "etc/hostname"));
	assert_null(layer_files_get(f, "usr/lib/os-release")); /* buffered as a link target only */
	assert_null(layer_files_get(f, "var/lib/dpkg/info/bash.list"));
	assert_int_equal(f->n_files, 3);
	assert_int_equal(f->n_whiteouts, 3);
	assert_string_equal(f->whiteouts[0], "opt/.wh.removed");
	assert_string_equal(f->whiteouts[1], "opt/app/.wh..wh..opq");
	assert_string_equal(f->whiteouts[2], ".wh.toplevel");
	assert_int_equal(f->n_entries, 11);
	assert_true(f->tar_bytes >= 11 * 512);
}

static void test_kinds(void **state)
{
	(void)state;
	static const char *kinds[] = {"gzip", "zstd", "none"};
	for (size_t i = 0; i < 3; i++) {
		struct tbuf b = build_basic(kinds[i]);
		char dg[160];
		tdigest("sha256", b.p, b.len, dg, sizeof(dg));
		struct layer_files f = {0};
		struct diag d = {{0}};
		int rc = scan_buf(&b, dg, NULL, &f, &d);
		if (rc)
			assert_int_equal(rc, 0);
		assert_string_equal(f.digest, dg);
		check_basic(&f);
		layer_files_release(&f);

		/* sha512 */
		tdigest("sha512", b.p, b.len, dg, sizeof(dg));
		assert_int_equal(scan_buf(&b, dg, NULL, &f, &d), 0);
		assert_string_equal(f.digest, dg);
		check_basic(&f);
		layer_files_release(&f);

		/* no expected digest: the sha256 is computed */
		assert_int_equal(scan_buf(&b, NULL, NULL, &f, &d), 0);
		tdigest("sha256", b.p, b.len, dg, sizeof(dg));
		assert_string_equal(f.digest, dg);
		layer_files_release(&f);
		free(b.p);
	}
}

static void test_digest_mismatch(void **state)
{
	(void)state;
	struct tbuf b = build_basic("gzip");
	char dg[160];
	tdigest("sha256", "other", 5, dg, sizeof(dg));
	struct layer_files f = {0};
	struct diag d;
	assert_int_equal(scan_buf(&b, dg, NULL, &f, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "digest mismatch (got sha256:"));
	assert_non_null(strstr(d.msg, dg));
	assert_null(f.files);
	assert_int_equal(f.n_files, 0);
	assert_null(f.digest);
	/* a digest of the other algorithm is a mismatch too */
	tdigest("sha512", "other", 5, dg, sizeof(dg));
	assert_int_equal(scan_buf(&b, dg, NULL, &f, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "got sha512:"));
	/* an unparsable digest */
	assert_int_equal(scan_buf(&b, "sha256:xyz", NULL, &f, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "unable to decode digest as hex"));
	free(b.p);
}

static void test_links(void **state)
{
	(void)state;
	struct tarb t;
	tarb_begin(&t, "gzip");
	tarb_file(&t, "lib/apk/db/installed", "P:musl\n");
	tarb_hardlink(&t, "hl", "lib/apk/db/installed");
	tarb_file(&t, "etc/shadow", "secret\n");
	tarb_symlink(&t, "escape", "../../../../etc/shadow"); /* climbs above the root */
	tarb_symlink(&t, "loop1", "loop2");
	tarb_symlink(&t, "loop2", "loop1");
	tarb_symlink(&t, "etc/redhat-release", "/usr/./lib/rr"); /* absolute, via a dir symlink */
	tarb_symlink(&t, "etc/passwd", "../nothere");            /* dangling */
	tarb_symlink(&t, "usr/lib", "../opt/real");              /* directory symlink after the link */
	tarb_file(&t, "opt/real/rr", "Red Hat\n");
	tarb_symlink(&t, "usr/share/x", "x2");
	tarb_symlink(&t, "usr/share/x2", "/usr/share/x3");
	tarb_file(&t, "usr/share/x3", "chain\n");
	struct tbuf b = tarb_end(&t);
	struct layer_files f = {0};
	struct diag d;
	assert_int_equal(scan_buf(&b, NULL, NULL, &f, &d), 0);
	assert_string_equal(file_text(&f, "lib/apk/db/installed"), "P:musl\n");
	assert_string_equal(file_text(&f, "hl"), "P:musl\n");
	assert_null(layer_files_get(&f, "escape"));
	assert_null(layer_files_get(&f, "loop1"));
	assert_null(layer_files_get(&f, "etc/passwd"));
	assert_null(layer_files_get(&f, "etc/shadow"));
	assert_string_equal(file_text(&f, "etc/redhat-release"), "Red Hat\n");
	assert_string_equal(file_text(&f, "usr/share/x"), "chain\n");
	assert_int_equal(f.n_files, 4);
	layer_files_release(&f);
	free(b.p);
}

static void test_traversal(void **state)
{
	(void)state;
	struct tarb t;
	tarb_begin(&t, "none");
	tarb_file(&t, "../../etc/passwd", "root:x:0:0\n");
	tarb_file(&t, "/abs/file", "abs\n");
	tarb_file(&t, "./a/./b/../c", "c\n");
	tarb_file(&t, "../../../", "");
	tarb_file(&t, "x/../../.wh.y", "");
	struct tbuf b = tarb_end(&t);
	struct layer_files f = {0};
	struct diag d;
	assert_int_equal(scan_buf(&b, NULL, NULL, &f, &d), 0);
	assert_string_equal(file_text(&f, "etc/passwd"), "root:x:0:0\n");
	assert_string_equal(file_text(&f, "abs/file"), "abs\n");
	assert_string_equal(file_text(&f, "a/c"), "c\n");
	assert_int_equal(f.n_files, 3);
	assert_int_equal(f.n_whiteouts, 1);
	assert_string_equal(f.whiteouts[0], ".wh.y");
	layer_files_release(&f);
	free(b.p);
}

static void test_duplicates(void **state)
{
	(void)state;
	struct tarb t;
	tarb_begin(&t, "gzip");
	tarb_file(&t, "etc/os-release", "ID=old\n");
	tarb_file(&t, "etc/os-release", "ID=new\n");
	tarb_file(&t, "var/lib/dpkg/status", "first\n");
	tarb_symlink(&t, "var/lib/dpkg/status", "../../../etc/os-release");
	struct tbuf b = tarb_end(&t);
	struct layer_files f = {0};
	struct diag d;
	assert_int_equal(scan_buf(&b, NULL, NULL, &f, &d), 0);
	assert_int_equal(f.n_files, 2);
	assert_string_equal(file_text(&f, "etc/os-release"), "ID=new\n");
	assert_string_equal(file_text(&f, "var/lib/dpkg/status"), "ID=new\n");
	layer_files_release(&f);
	free(b.p);
}

static void test_bomb(void **state)
{
	(void)state;
	struct layer_fetch_opts o;
	layer_fetch_opts_default(&o);
	o.max_tar_bytes = 16 << 20;
	struct layer_files f = {0};
	struct diag d;

	/* one 64 MiB entry */
	struct tarb t;
	tarb_begin(&t, "gzip");
	tarb_zeros(&t, "zeros", 64 << 20);
	struct tbuf b = tarb_end(&t);
	assert_true(b.len < 1 << 20);
	assert_int_equal(scan_buf(&b, NULL, &o, &f, &d), -EFBIG);
	assert_non_null(strstr(d.msg, "uncompressed size exceeds 16777216 bytes"));
	assert_null(f.files);
	free(b.p);

	/* many 1 MiB entries adding up */
	tarb_begin(&t, "zstd");
	for (int i = 0; i < 40; i++) {
		char p[32];
		snprintf(p, sizeof(p), "z%d", i);
		tarb_zeros(&t, p, 1 << 20);
	}
	b = tarb_end(&t);
	assert_int_equal(scan_buf(&b, NULL, &o, &f, &d), -EFBIG);
	assert_non_null(strstr(d.msg, "uncompressed size exceeds"));
	o.max_tar_bytes = 64 << 20;
	assert_int_equal(scan_buf(&b, NULL, &o, &f, &d), 0);
	assert_int_equal(f.n_entries, 40);
	assert_true(f.tar_bytes >= 40u << 20);
	layer_files_release(&f);
	free(b.p);
}

static struct tbuf build_many(int n, const char *filter)
{
	struct tarb t;
	tarb_begin(&t, filter);
	for (int i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof(p), "usr/share/doc/f%06d", i);
		tarb_file(&t, p, "x");
		if (i == n / 2)
			tarb_file(&t, "var/lib/dpkg/status", "Package: mid\n");
	}
	return tarb_end(&t);
}

static void test_entry_cap(void **state)
{
	(void)state;
	struct layer_fetch_opts o;
	layer_fetch_opts_default(&o);
	o.max_entries = 1000;
	struct layer_files f = {0};
	struct diag d;
	struct tbuf b = build_many(2000, "gzip");
	assert_int_equal(scan_buf(&b, NULL, &o, &f, &d), -EFBIG);
	assert_non_null(strstr(d.msg, "more than 1000 tar entries"));
	free(b.p);

	/* 100,000 tiny files under the default caps: fine, and only the wanted one is kept */
	b = build_many(100000, "gzip");
	assert_int_equal(scan_buf(&b, NULL, NULL, &f, &d), 0);
	assert_int_equal(f.n_entries, 100001);
	assert_int_equal(f.n_files, 1);
	assert_string_equal(file_text(&f, "var/lib/dpkg/status"), "Package: mid\n");
	layer_files_release(&f);
	free(b.p);
}

static void test_big_file_skipped(void **state)
{
	(void)state;
	struct layer_fetch_opts o;
	layer_fetch_opts_default(&o);
	o.max_file_bytes = 8 << 20;
	struct tarb t;
	tarb_begin(&t, "gzip");
	tarb_zeros(&t, "big", 100 << 20);
	tarb_file(&t, "var/lib/dpkg/status", "Package: a\n");
	struct tbuf b = tarb_end(&t);
	struct layer_files f = {0};
	struct diag d;
	assert_int_equal(scan_buf(&b, NULL, &o, &f, &d), 0);
	assert_null(layer_files_get(&f, "big"));
	assert_string_equal(file_text(&f, "var/lib/dpkg/status"), "Package: a\n");
	layer_files_release(&f);

	/* max_total_buffered: the second wanted file does not fit and is skipped */
	o.max_file_bytes = 256 << 20;
	o.max_total_buffered = 1 << 20;
	free(b.p);
	tarb_begin(&t, "gzip");
	tarb_zeros(&t, "big", 900 << 10);
	tarb_zeros(&t, "etc/passwd", 900 << 10);
	b = tarb_end(&t);
	assert_int_equal(scan_buf(&b, NULL, &o, &f, &d), 0);
	assert_non_null(layer_files_get(&f, "big"));
	assert_int_equal(layer_files_get(&f, "big")->len, 900 << 10);
	assert_null(layer_files_get(&f, "etc/passwd"));
	layer_files_release(&f);
	free(b.p);
}

static void test_truncated(void **state)
{
	(void)state;
	static const char *kinds[] = {"gzip", "zstd", "none"};
	for (size_t i = 0; i < 3; i++) {
		struct tarb t;
		tarb_begin(&t, kinds[i]);
		tarb_file(&t, "var/lib/dpkg/status", "Package: a\n");
		/* incompressible-ish content so the cut lands inside the data */
		char *junk = malloc(200000);
		for (size_t k = 0; k < 200000; k++)
			junk[k] = (char)('a' + (k * 7919 + k / 13) % 26);
		tarb_entry(&t, "junk", AE_IFREG, NULL, 0, junk, 200000, 200000);
		free(junk);
		struct tbuf b = tarb_end(&t);
		b.len /= 2;
		struct layer_files f = {0};
		struct diag d;
		int rc = scan_buf(&b, NULL, NULL, &f, &d);
		assert_int_equal(rc, -EBADMSG);
		assert_non_null(strstr(d.msg, "truncated"));
		if (strcmp(kinds[i], "none") != 0)
			assert_non_null(strstr(d.msg, kinds[i]));
		assert_null(f.files);
		free(b.p);
	}
}

static void test_rejected(void **state)
{
	(void)state;
	struct layer_files f = {0};
	struct diag d;
	struct tarb t;
	tarb_begin(&t, "bzip2");
	tarb_file(&t, "var/lib/dpkg/status", "Package: a\n");
	struct tbuf b = tarb_end(&t);
	assert_int_equal(scan_buf(&b, NULL, NULL, &f, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "disallowed compression kind bzip2"));
	free(b.p);

	struct tbuf x = {0};
	tbuf_add(&x,
	         "\xfd"
	         "7zXZ\0\0\0\0",
	         10);
	assert_int_equal(scan_buf(&x, NULL, NULL, &f, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "xz"));
	free(x.p);

	/* not a tar (a zip-like blob of text), plain and inside gzip */
	struct tbuf txt = {0};
	for (int i = 0; i < 100; i++)
		tbuf_add(&txt, "this is not a tar archive at all\n", 33);
	assert_int_equal(scan_buf(&txt, NULL, NULL, &f, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "not a tar archive"));
	free(txt.p);

	/* a gzip inside a gzip is not a tar either (no filter chains) */
	tarb_begin(&t, "gzip");
	tarb_file(&t, "a", "b");
	struct tbuf inner = tarb_end(&t);
	struct archive *a = archive_write_new();
	struct tbuf outer = {0};
	archive_write_set_format_raw(a);
	archive_write_add_filter_gzip(a);
	archive_write_open2(a, &outer, NULL, tbuf_archive_write, NULL, NULL);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "x");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (int64_t)inner.len);
	archive_write_header(a, e);
	archive_write_data(a, inner.p, inner.len);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	assert_int_equal(scan_buf(&outer, NULL, NULL, &f, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "not a tar archive"));
	free(inner.p);
	free(outer.p);
}

static void test_empty_layers(void **state)
{
	(void)state;
	/* Quay's shared empty layer, byte for byte */
	static const unsigned char quay[32] = {31,  139, 8, 0, 0, 9, 110, 136, 0,  255, 98,  24,  5, 163, 96, 20,
	                                       140, 88,  0, 8, 0, 0, 255, 255, 46, 175, 181, 239, 0, 4,   0,  0};
	struct tbuf q = {0};
	tbuf_add(&q, quay, sizeof(quay));
	char dg[160];
	tdigest("sha256", q.p, q.len, dg, sizeof(dg));
	assert_string_equal(dg, "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4");
	struct layer_files f = {0};
	struct diag d;
	assert_int_equal(scan_buf(&q, dg, NULL, &f, &d), 0);
	assert_int_equal(f.n_files, 0);
	assert_int_equal(f.n_whiteouts, 0);
	assert_int_equal(f.n_entries, 0);
	assert_string_equal(f.digest, dg);
	layer_files_release(&f);
	free(q.p);

	/* generated: gzip of 1024 zero bytes (an empty tar) */
	const char *tmp = getenv("TEST_TMPDIR");
	char cmd[512], path[256];
	snprintf(path, sizeof(path), "%s/empty.tar.gz", tmp && *tmp ? tmp : "/tmp");
	snprintf(cmd, sizeof(cmd), "head -c 1024 /dev/zero | gzip -n > '%s'", path);
	assert_int_equal(system(cmd), 0);
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	unsigned char gz[256];
	size_t n = fread(gz, 1, sizeof(gz), fp);
	fclose(fp);
	unlink(path);
	assert_true(n > 0 && n < 64);
	struct tbuf g = {0};
	tbuf_add(&g, gz, n);
	tdigest("sha256", g.p, g.len, dg, sizeof(dg));
	assert_int_equal(scan_buf(&g, dg, NULL, &f, &d), 0);
	assert_int_equal(f.n_files, 0);
	layer_files_release(&f);
	free(g.p);

	/* zero bytes: an empty layer too, still digest-checked */
	struct tbuf z = {0};
	tdigest("sha256", "", 0, dg, sizeof(dg));
	assert_int_equal(scan_buf(&z, dg, NULL, &f, &d), 0);
	assert_int_equal(f.n_files, 0);
	layer_files_release(&f);
}

/* ---- memory: 256 MiB of tar through a pipe ---- */

struct gen {
	int fd;
	size_t total;
};

static la_ssize_t gen_write(struct archive *a, void *ud, const void *p, size_t n)
{
	(void)a;
	struct gen *g = ud;
	const unsigned char *c = p;
	size_t left = n;
	while (left) {
		ssize_t w = write(g->fd, c, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		left -= (size_t)w;
	}
	return (la_ssize_t)n;
}

static void *gen_main(void *ud)
{
	struct gen *g = ud;
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	archive_write_set_filter_option(a, "gzip", "compression-level", "1");
	archive_write_open2(a, g, NULL, gen_write, NULL, NULL);
	static unsigned char chunk[1 << 20];
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (unsigned char)("0123456789abcdef\n"[i % 17]);
	size_t files = g->total >> 20;
	for (size_t i = 0; i < files; i++) {
		char p[64];
		snprintf(p, sizeof(p), "data/blob%04zu", i);
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, i == files / 2 ? "var/lib/dpkg/status" : p);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, sizeof(chunk));
		archive_write_header(a, e);
		archive_write_data(a, chunk, sizeof(chunk));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	close(g->fd);
	return NULL;
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int memory_child(void)
{
	int p[2];
	if (pipe(p) < 0)
		return 10;
	struct gen g = {.fd = p[1], .total = (size_t)256 << 20};
	long before = maxrss_kb();
	pthread_t th;
	if (pthread_create(&th, NULL, gen_main, &g) != 0)
		return 11;
	struct layer_files f = {0};
	struct diag d;
	int rc = layer_scan_fd(p[0], NULL, NULL, twant, (void *)WANT, &f, &d);
	pthread_join(th, NULL);
	close(p[0]);
	long grow = maxrss_kb() - before;
	fprintf(stderr, "memory: rc=%d tar_bytes=%llu files=%zu maxrss growth %ld KiB\n", rc,
	        (unsigned long long)f.tar_bytes, f.n_files, grow);
	if (rc != 0 || f.n_files != 1 || f.files[0].len != 1 << 20 || f.tar_bytes < (256ULL << 20))
		return 12;
	layer_files_release(&f);
#if defined(__SANITIZE_ADDRESS__)
	return 0; /* ASan's quarantine and shadow memory make RSS meaningless */
#else
	return grow < 64 * 1024 ? 0 : 13;
#endif
}

static void test_memory(void **state)
{
	(void)state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(memory_child());
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_memory),
	    cmocka_unit_test(test_path_normalize),
	    cmocka_unit_test(test_digest_parse),
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_digest_mismatch),
	    cmocka_unit_test(test_links),
	    cmocka_unit_test(test_traversal),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_bomb),
	    cmocka_unit_test(test_entry_cap),
	    cmocka_unit_test(test_big_file_skipped),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_rejected),
	    cmocka_unit_test(test_empty_layers),
	};
	return cmocka_run_group_tests_name("indexer/layer", tests, NULL, NULL);
}

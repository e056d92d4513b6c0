/* Tests for the scanners against real package databases from $SHARED_DIR/testdata/pkgdb. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scanner/indexer/scanners/scanners.h"
#include "scanner/indexer/scanners/scanners_fuzz.h"
#include "scanner/indexer/scanners/util.h"

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	char *b = malloc(cap + 1);
	size_t r;
	while (b && (r = fread(b + len, 1, cap - len, f)) > 0) {
		len += r;
		if (len == cap) {
			char *nb = realloc(b, cap * 2 + 1);
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (b)
		b[len] = 0;
	*n = len;
	return b;
}

static const char *testdata(void)
{
	const char *s = getenv("SHARED_DIR");
	return s && *s ? s : NULL;
}

/* a layer with files (path, data) pairs; data NULL = directory */
static void layer_add(struct layer_files *l, const char *path, const char *data, size_t n)
{
	l->files = realloc(l->files, (l->n_files + 1) * sizeof(*l->files));
	assert_non_null(l->files);
	struct layer_file *f = &l->files[l->n_files++];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	if (data) {
		f->type = LAYER_FILE_REG;
		f->data = malloc(n + 1);
		memcpy(f->data, data, n);
		f->data[n] = 0;
		f->len = n;
	} else {
		f->type = LAYER_FILE_DIR;
	}
}

/* ---- dpkg ---- */

static int status_ok(const char *st)
{
	char buf[256];
	snprintf(buf, sizeof(buf), " %s ", st);
	return strstr(buf, " ok ") && strstr(buf, " installed ");
}

static void check_dpkg_file(const char *file)
{
	char path[1024], cmd[2048];
	size_t n;
	snprintf(path, sizeof(path), "%s/testdata/pkgdb/dpkg/%s", testdata(), file);
	char *data = slurp(path, &n);
	assert_non_null(data);
	struct layer_files l = {0};
	layer_add(&l, "var/lib/dpkg/status", data, n);
	layer_add(&l, "var/lib/dpkg/info", NULL, 0);
	struct scan_result r = {0};
	assert_int_equal(scanner_dpkg.scan(&l, &r, NULL), 0);

	/* independent: dpkg-query on an admindir holding the status file */
	const char *tmp = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/dpkgq-%d", tmp, (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "rm -rf '%s' && mkdir -p '%s/info' '%s/updates' && cp '%s' '%s/status' && touch '%s/available' && "
		 "dpkg-query --admindir='%s' -W -f='${Status}\\t${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\n' 2>/dev/null",
		 dir, dir, dir, path, dir, dir, dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[4096];
	size_t expect = 0, matched = 0;
	char **seen = NULL;
	size_t n_seen = 0;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = 0;
		char *f[5] = {0};
		char *s = line;
		for (int k = 0; k < 5; k++) {
			f[k] = s;
			s = s ? strchr(s, '\t') : NULL;
			if (s)
				*s++ = 0;
		}
		if (!f[4] || !status_ok(f[0]))
			continue;
		int dup = 0;
		for (size_t k = 0; k < n_seen; k++)
			dup |= strcmp(seen[k], f[1]) == 0;
		if (!dup) {
			seen = realloc(seen, (n_seen + 1) * sizeof(*seen));
			seen[n_seen++] = strdup(f[1]);
			expect++;
		}
		for (size_t k = 0; k < r.n_pkgs; k++) {
			if (strcmp(r.pkgs[k].name, f[1]) == 0 && strcmp(r.pkgs[k].version, f[2]) == 0 &&
			    strcmp(r.pkgs[k].arch, f[3]) == 0) {
				assert_string_equal(r.pkgs[k].src_name, f[4]);
				assert_string_equal(r.pkgs[k].package_db, "var/lib/dpkg/status");
				assert_string_equal(r.pkgs[k].kind, "binary");
				matched++;
				break;
			}
		}
	}
	int prc = pclose(p);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	if (strcmp(file, "vcpkg.status") == 0) {
		assert_int_equal(r.n_pkgs, 0); /* not a dpkg database */
	} else {
		assert_int_equal(prc, 0);
		print_message("dpkg %s: %zu packages (dpkg-query %zu)\n", file, r.n_pkgs, expect);
		assert_true(expect > 0);
		assert_int_equal(r.n_pkgs, expect);
		assert_true(matched >= expect);
	}
	/* sorted by name */
	for (size_t k = 1; k < r.n_pkgs; k++)
		assert_true(strcmp(r.pkgs[k - 1].name, r.pkgs[k].name) <= 0);
	for (size_t k = 0; k < n_seen; k++)
		free(seen[k]);
	free(seen);
	scan_result_release(&r);
	layer_files_release(&l);
	free(data);
}

static void test_dpkg_real(void **state)
{
	(void)state;
	if (!testdata()) {
		print_message("SKIP: SHARED_DIR unset, no testdata/pkgdb\n");
		skip();
	}
	const char *files[] = {"debian-13-trixie-minbase.status", "debian-only.status", "postgresql.status",
			       "texlive.status", "ubuntu-bionic.status", "vcpkg.status"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		check_dpkg_file(files[i]);
}

static void test_dpkg_details(void **state)
{
	(void)state;
	const char *st = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
			 "Source: glibc (2.36-9)\nVersion: 2.36-9+deb12u1\nDescription: x\n more\n .\n\n"
			 "Package: libc-bin\nStatus: install ok installed\nArchitecture: amd64\n"
			 "Source: glibc\nVersion: 2.36-9+deb12u4\n\n"
			 "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: all\n\n"
			 "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2\n";
	const char *md5 = "abc  usr/bin/bash\n";
	struct layer_files l = {0};
	layer_add(&l, "var/lib/dpkg/status", st, strlen(st));
	layer_add(&l, "var/lib/dpkg/info", NULL, 0);
	layer_add(&l, "var/lib/dpkg/info/bash:amd64.md5sums", md5, strlen(md5));
	struct scan_result r = {0};
	assert_int_equal(scanner_dpkg.scan(&l, &r, NULL), 0);
	assert_int_equal(r.n_pkgs, 3);
	assert_string_equal(r.pkgs[0].name, "bash");
	assert_string_equal(r.pkgs[0].src_name, "bash");
	assert_string_equal(r.pkgs[0].src_version, "5.2");
	char hex[33];
	scutil_md5_hex(md5, strlen(md5), hex);
	assert_string_equal(r.pkgs[0].repository_hint, hex);
	assert_string_equal(r.pkgs[1].name, "libc-bin");
	assert_string_equal(r.pkgs[1].src_name, "glibc");
	assert_string_equal(r.pkgs[1].src_version, "2.36-9"); /* shared source: first seen */
	assert_string_equal(r.pkgs[2].src_version, "2.36-9");
	scan_result_release(&r);
	/* without info/ it is not a database */
	struct layer_files l2 = {0};
	layer_add(&l2, "var/lib/dpkg/status", st, strlen(st));
	assert_int_equal(scanner_dpkg.scan(&l2, &r, NULL), 0);
	assert_int_equal(r.n_pkgs, 0);
	layer_files_release(&l2);
	layer_files_release(&l);
	assert_true(scanner_dpkg.want("var/lib/dpkg/status", 0));
	assert_true(scanner_dpkg.want("var/lib/dpkg/info", 1));
	assert_true(scanner_dpkg.want("var/lib/dpkg/info/bash.md5sums", 0));
	assert_false(scanner_dpkg.want("var/lib/dpkg/info/bash.list", 0));
	/* distroless */
	struct layer_files l3 = {0};
	const char *dl = "Package: base-files\nVersion: 12.4\nArchitecture: amd64\nSource: base-files-src\n";
	layer_add(&l3, "var/lib/dpkg/status.d/base", dl, strlen(dl));
	assert_int_equal(scanner_dpkg_distroless.scan(&l3, &r, NULL), 0);
	assert_int_equal(r.n_pkgs, 1);
	assert_string_equal(r.pkgs[0].package_db, "var/lib/dpkg/status.d/base");
	assert_string_equal(r.pkgs[0].src_name, "base-files-src");
	assert_string_equal(r.pkgs[0].src_version, "12.4");
	scan_result_release(&r);
	layer_files_release(&l3);
}

/* ---- apk ---- */

static void check_apk(const char *rel)
{
	char path[1024], cmd[2048];
	size_t n;
	snprintf(path, sizeof(path), "%s/testdata/pkgdb/%s", testdata(), rel);
	char *data = slurp(path, &n);
	assert_non_null(data);
	struct layer_files l = {0};
	layer_add(&l, "lib/apk/db/installed", data, n);
	struct scan_result r = {0};
	assert_int_equal(scanner_apk.scan(&l, &r, NULL), 0);
	/* independent parse: awk over records */
	snprintf(cmd, sizeof(cmd),
		 "awk -F: '/^P:/{p=substr($0,3)} /^V:/{v=substr($0,3)} /^A:/{a=substr($0,3)} /^o:/{o=substr($0,3)} "
		 "/^$/{if(p!=\"\")print p\"|\"v\"|\"a\"|\"o; p=\"\";v=\"\";a=\"\";o=\"\"} END{if(p!=\"\")print p\"|\"v\"|\"a\"|\"o}' '%s'",
		 path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[1024];
	size_t k = 0;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = 0;
		assert_true(k < r.n_pkgs);
		char exp[1024];
		snprintf(exp, sizeof(exp), "%s|%s|%s|%s", r.pkgs[k].name, r.pkgs[k].version, r.pkgs[k].arch,
			 r.pkgs[k].src_name);
		assert_string_equal(exp, line);
		assert_string_equal(r.pkgs[k].package_db, "lib/apk/db/installed");
		k++;
	}
	pclose(p);
	print_message("apk %s: %zu packages\n", rel, r.n_pkgs);
	assert_true(k > 0);
	assert_int_equal(k, r.n_pkgs);
	assert_string_equal(r.pkgs[0].repository_hint, "e6c226fbe17bb8f856dce5f0d9bc088b333e6225" + 0 * k);
	scan_result_release(&r);
	layer_files_release(&l);
	free(data);
}

static void test_apk_real(void **state)
{
	(void)state;
	if (!testdata()) {
		print_message("SKIP: SHARED_DIR unset\n");
		skip();
	}
	check_apk("apk/alpine-3.4.installed");
}

/* ---- rpm ---- */

static void test_rpm_header(void **state)
{
	(void)state;
	if (!testdata()) {
		print_message("SKIP: SHARED_DIR unset\n");
		skip();
	}
	char path[1024];
	size_t n;
	snprintf(path, sizeof(path), "%s/testdata/pkgdb/rpm/package.header", testdata());
	char *data = slurp(path, &n);
	assert_non_null(data);
	/* independent: rpm itself can't read a bare header; check against strings in the blob */
	struct scan_result r = {0};
	assert_int_equal(scanners_fuzz_rpm_header((const uint8_t *)data, n), 0);
	extern int rpm_header_add(const uint8_t *, size_t, const char *, struct scan_result *);
	assert_int_equal(rpm_header_add((const uint8_t *)data, n, "sqlite:var/lib/rpm", &r), 0);
	assert_int_equal(r.n_pkgs, 1);
	print_message("header: %s %s %s src=%s %s hint=%s module=%s\n", r.pkgs[0].name, r.pkgs[0].version,
		      r.pkgs[0].arch, r.pkgs[0].src_name, r.pkgs[0].src_version, r.pkgs[0].repository_hint,
		      r.pkgs[0].module);
	assert_true(strlen(r.pkgs[0].name) > 0);
	assert_non_null(memmem(data, n, r.pkgs[0].name, strlen(r.pkgs[0].name)));
	scan_result_release(&r);
	/* truncations never crash and are rejected */
	for (size_t k = 0; k < n; k += 97) {
		assert_int_equal(scanners_fuzz_rpm_header((const uint8_t *)data, k), 0);
		assert_int_not_equal(rpm_header_add((const uint8_t *)data, k, "x", &r), 0);
	}
	scan_result_release(&r);
	free(data);
}

static int have(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static void test_rpm_sqlite_real(void **state)
{
	(void)state;
	if (!have("rpm") || !have("rpmbuild")) {
		print_message("SKIP: rpm/rpmbuild not installed (apt-get install rpm)\n");
		skip();
	}
	const char *tmp = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
	char dir[1024], cmd[8192];
	snprintf(dir, sizeof(dir), "%s/rpmt-%d", tmp, (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "set -e; D='%s'; rm -rf $D; mkdir -p $D/rpm/SPECS $D/root;"
		 "mk() { cat > $D/rpm/SPECS/$2.spec <<EOS\n"
		 "%%define _build_id_links none\n%%define debug_package %%{nil}\n%%define __os_install_post %%{nil}\n"
		 "Name: $1\n$5\nVersion: $3\nRelease: $4\nSummary: t\nLicense: MIT\n%%description\nt\n"
		 "%%package -n $2\nSummary: t\n%%description -n $2\nt\n%%install\nmkdir -p %%{buildroot}/usr/lib64\n"
		 "echo x > %%{buildroot}/usr/lib64/$2.so\n%%files -n $2\n/usr/lib64/$2.so\nEOS\n"
		 "rpmbuild --define \"_topdir $D/rpm\" --nodeps --target x86_64 -bb $D/rpm/SPECS/$2.spec >/dev/null 2>&1; };"
		 "mk openssl openssl-libs 1.1.1k 1.el8 'Epoch: 1'; mk zlib zlib-libs 1.2.11 17.el8 ''; mk curl libcurl 7.61.1 18.el8 '';"
		 "rpm --root $D/root --dbpath /var/lib/rpm --initdb 2>/dev/null;"
		 "rpm --root $D/root --dbpath /var/lib/rpm -i --justdb --nodeps --noscripts $D/rpm/RPMS/x86_64/*.rpm 2>/dev/null",
		 dir);
	assert_int_equal(system(cmd), 0);
	char dbp[1100];
	snprintf(dbp, sizeof(dbp), "%s/root/var/lib/rpm/rpmdb.sqlite", dir);
	size_t n;
	char *data = slurp(dbp, &n);
	assert_non_null(data);
	struct layer_files l = {0};
	layer_add(&l, "var/lib/rpm/rpmdb.sqlite", data, n);
	struct scan_result r = {0};
	assert_int_equal(scanner_rpm.scan(&l, &r, NULL), 0);
	snprintf(cmd, sizeof(cmd),
		 "rpm --root %s/root --dbpath /var/lib/rpm -qa --qf '%%{NAME}|%%|EPOCH?{%%{EPOCH}:}:{}|%%{VERSION}-%%{RELEASE}|%%{ARCH}|%%{SOURCERPM}\\n' 2>/dev/null | sort",
		 dir);
	FILE *p = popen(cmd, "r");
	char line[1024];
	size_t k = 0;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = 0;
		char name[256], evr[256], arch[64], src[256];
		assert_int_equal(sscanf(line, "%255[^|]|%255[^|]|%63[^|]|%255s", name, evr, arch, src), 4);
		int found = 0;
		for (size_t j = 0; j < r.n_pkgs; j++) {
			if (strcmp(r.pkgs[j].name, name) != 0)
				continue;
			found = 1;
			const char *e = strncmp(evr, "0:", 2) == 0 ? evr + 2 : evr;
			assert_string_equal(r.pkgs[j].version, e);
			assert_string_equal(r.pkgs[j].arch, arch);
			assert_string_equal(r.pkgs[j].package_db, "sqlite:var/lib/rpm");
			assert_true(strncmp(src, r.pkgs[j].src_name, strlen(r.pkgs[j].src_name)) == 0);
		}
		assert_true(found);
		k++;
	}
	pclose(p);
	assert_int_equal(k, 3);
	assert_int_equal(r.n_pkgs, 3);
	for (size_t j = 0; j < r.n_pkgs; j++)
		if (strcmp(r.pkgs[j].name, "openssl-libs") == 0) {
			assert_string_equal(r.pkgs[j].version, "1:1.1.1k-1.el8");
			assert_string_equal(r.pkgs[j].src_name, "openssl");
			assert_string_equal(r.pkgs[j].src_version, "1.1.1k-1.el8");
		}
	scan_result_release(&r);
	/* truncated databases: no packages, no crash */
	for (size_t cut = 0; cut < n; cut += n / 7 + 1) {
		assert_int_equal(scanners_fuzz_rpm_sqlite((const uint8_t *)data, cut), 0);
		assert_int_equal(scanners_fuzz_rpm_bdb((const uint8_t *)data, cut), 0);
	}
	/* BDB conversion with python3-bsddb3 when available */
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import bsddb3' 2>/dev/null && /usr/bin/python3 - '%s' '%s/Packages' <<'EOP'\n"
		 "import sqlite3,struct,sys\nfrom bsddb3 import db\n"
		 "rows=sqlite3.connect(sys.argv[1]).execute('SELECT hnum, blob FROM Packages ORDER BY hnum').fetchall()\n"
		 "d=db.DB(); d.set_pagesize(4096); d.open(sys.argv[2],None,db.DB_HASH,db.DB_CREATE|db.DB_TRUNCATE,0o644)\n"
		 "[d.put(struct.pack('=I',h),bytes(b)) for h,b in rows]\nd.put(struct.pack('=I',0),struct.pack('=I',max(h for h,_ in rows)))\nd.close()\nEOP",
		 dbp, dir);
	if (system(cmd) == 0) {
		char bp[1100];
		snprintf(bp, sizeof(bp), "%s/Packages", dir);
		size_t bn;
		char *bdb = slurp(bp, &bn);
		struct layer_files lb = {0};
		layer_add(&lb, "var/lib/rpm/Packages", bdb, bn);
		assert_int_equal(scanner_rpm.scan(&lb, &r, NULL), 0);
		assert_int_equal(r.n_pkgs, 3);
		assert_string_equal(r.pkgs[0].package_db, "bdb:var/lib/rpm");
		scan_result_release(&r);
		for (size_t cut = 0; cut < bn; cut += 333)
			assert_int_equal(scanners_fuzz_rpm_bdb((const uint8_t *)bdb, cut), 0);
		layer_files_release(&lb);
		free(bdb);
	} else {
		print_message("SKIP part: python3-bsddb3 missing, BDB not tested against a real file\n");
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	layer_files_release(&l);
	free(data);
}

/* ---- python ---- */

static void test_python(void **state)
{
	(void)state;
	const char *meta = "Metadata-Version: 2.1\nName: Requests\nVersion: 2.31.0\n\nbody\n";
	const char *egg = "Metadata-Version: 1.1\nName: six\nVersion: 1.16.0rc1\n";
	const char *bad = "Name: junk\nVersion: not a version\n";
	struct layer_files l = {0};
	layer_add(&l, "usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA", meta, strlen(meta));
	layer_add(&l, "usr/local/lib/python3.11/site-packages/six-1.16.0.egg-info", egg, strlen(egg));
	layer_add(&l, "usr/local/lib/python3.11/site-packages/junk.egg-info", bad, strlen(bad));
	layer_add(&l, "usr/lib/python3/dist-packages/apt-1.dist-info/METADATA", meta, strlen(meta));
	layer_add(&l, "usr/lib/python3/dist-packages/apt-1.dist-info/INSTALLER", "dpkg\n", 5);
	struct scan_result r = {0};
	assert_int_equal(scanner_python.scan(&l, &r, NULL), 0);
	assert_int_equal(r.n_pkgs, 2);
	assert_string_equal(r.pkgs[0].name, "requests");
	assert_string_equal(r.pkgs[0].version, "2.31.0");
	assert_string_equal(r.pkgs[0].package_db, "python:usr/local/lib/python3.11/site-packages");
	assert_string_equal(r.pkgs[0].normalized_version, "pep440:0.2.31.0.0.0.0.0.0.0");
	assert_string_equal(r.pkgs[0].repository_hint, "https://pypi.org/simple");
	assert_string_equal(r.pkgs[1].name, "six");
	assert_string_equal(r.pkgs[1].version, "1.16.0rc1");
	assert_string_equal(r.pkgs[1].package_db, "python:usr/local/lib/python3.11/site-packages");
	assert_int_equal(r.n_repos, 1);
	assert_string_equal(r.repos[0].name, "pypi");
	scan_result_release(&r);
	layer_files_release(&l);
}

/* ---- distributions ---- */

static void dist1(const struct scanner_desc *s, const char *path, const char *text, const char *did,
		  const char *name, const char *version, const char *code, const char *vid, const char *cpe,
		  const char *pretty)
{
	struct layer_files l = {0};
	layer_add(&l, path, text, strlen(text));
	struct scan_result r = {0};
	assert_int_equal(s->scan(&l, &r, NULL), 0);
	if (!did) {
		assert_int_equal(r.n_dists, 0);
	} else {
		assert_int_equal(r.n_dists, 1);
		assert_string_equal(r.dists[0].did, did);
		assert_string_equal(r.dists[0].name, name);
		assert_string_equal(r.dists[0].version, version);
		assert_string_equal(r.dists[0].version_code_name, code);
		assert_string_equal(r.dists[0].version_id, vid);
		assert_string_equal(r.dists[0].cpe, cpe);
		assert_string_equal(r.dists[0].pretty_name, pretty);
	}
	scan_result_release(&r);
	layer_files_release(&l);
}

static void test_dists(void **state)
{
	(void)state;
	const char *buster = "PRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"10\"\n"
			     "VERSION=\"10 (buster)\"\nVERSION_CODENAME=buster\nID=debian\nHOME_URL=\"https://www.debian.org/\"\n";
	/* expected values = debian-10.index.json's distribution */
	dist1(&scanner_dist_debian, "etc/os-release", buster, "debian", "Debian GNU/Linux", "10 (buster)", "buster",
	      "10", "", "Debian GNU/Linux 10 (buster)");
	const char *jessie = "PRETTY_NAME=\"Debian GNU/Linux 8 (jessie)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"8\"\n"
			     "VERSION=\"8 (jessie)\"\nID=debian\n";
	dist1(&scanner_dist_debian, "etc/os-release", jessie, "debian", "Debian GNU/Linux", "8 (jessie)", "jessie", "8",
	      "", "Debian GNU/Linux 8 (jessie)");
	dist1(&scanner_dist_debian, "etc/os-release", "ID=ubuntu\n", NULL, 0, 0, 0, 0, 0, 0);
	const char *lsb = "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=18.04\nDISTRIB_CODENAME=bionic\n"
			  "DISTRIB_DESCRIPTION=\"Ubuntu 18.04.3 LTS\"\n";
	dist1(&scanner_dist_ubuntu, "etc/lsb-release", lsb, "ubuntu", "Ubuntu", "18.04 (Bionic)", "bionic", "18.04", "",
	      "Ubuntu 18.04");
	const char *jammy = "PRETTY_NAME=\"Ubuntu 22.04.3 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\n"
			    "VERSION=\"22.04.3 LTS (Jammy Jellyfish)\"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n";
	dist1(&scanner_dist_ubuntu, "etc/os-release", jammy, "ubuntu", "Ubuntu", "22.04 (Jammy)", "jammy", "22.04", "",
	      "Ubuntu 22.04");
	const char *alp = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME=\"Alpine Linux v3.18\"\n";
	dist1(&scanner_dist_alpine, "etc/os-release", alp, "alpine", "Alpine Linux", "3.18", "", "", "",
	      "Alpine Linux v3.18");
	dist1(&scanner_dist_alpine, "etc/issue", "Welcome to Alpine Linux 3.7\nKernel \\r on an \\m (\\l)\n", "alpine",
	      "Alpine Linux", "3.7", "", "", "", "Alpine Linux v3.7");
	const char *ubi = "NAME=\"Red Hat Enterprise Linux\"\nVERSION=\"8.4 (Ootpa)\"\nID=\"rhel\"\nVERSION_ID=\"8.4\"\n"
			  "PLATFORM_ID=\"platform:el8\"\nPRETTY_NAME=\"Red Hat Enterprise Linux 8.4 (Ootpa)\"\n"
			  "CPE_NAME=\"cpe:/o:redhat:enterprise_linux:8::baseos\"\n";
	/* expected = ubi.index.json's distribution */
	dist1(&scanner_dist_rhel, "etc/os-release", ubi, "rhel", "Red Hat Enterprise Linux Server", "8", "", "8",
	      "cpe:2.3:o:redhat:enterprise_linux:8:*:*:*:*:*:*:*", "Red Hat Enterprise Linux Server 8");
	const char *al1 = "NAME=\"Amazon Linux AMI\"\nVERSION=\"2018.03\"\nID=\"amzn\"\nID_LIKE=\"rhel fedora\"\n"
			  "VERSION_ID=\"2018.03\"\nPRETTY_NAME=\"Amazon Linux AMI 2018.03\"\n"
			  "CPE_NAME=\"cpe:/o:amazon:linux:2018.03:ga\"\n";
	/* expected = amazonlinux-1.index.json's distribution */
	dist1(&scanner_dist_aws, "etc/os-release", al1, "amzn", "Amazon Linux AMI", "2018.03", "", "2018.03",
	      "cpe:2.3:o:amazon:linux:2018.03:ga:*:*:*:*:*:*", "Amazon Linux AMI 2018.03");
	const char *al2 = "NAME=\"Amazon Linux\"\nVERSION=\"2\"\nID=\"amzn\"\nCPE_NAME=\"cpe:2.3:o:amazon:amazon_linux:2\"\n";
	dist1(&scanner_dist_aws, "etc/os-release", al2, "amzn", "Amazon Linux", "2", "", "2",
	      "cpe:2.3:o:amazon:amazon_linux:2:*:*:*:*:*:*:*", "Amazon Linux 2");
	const char *ol = "NAME=\"Oracle Linux Server\"\nVERSION=\"8.7\"\nID=\"ol\"\nVERSION_ID=\"8.7\"\n"
			 "PRETTY_NAME=\"Oracle Linux Server 8.7\"\nCPE_NAME=\"cpe:/o:oracle:linux:8:7:server\"\n";
	dist1(&scanner_dist_oracle, "etc/os-release", ol, "ol", "Oracle Linux Server", "8", "Oracle Linux 8", "8", "",
	      "Oracle Linux Server 8");
	const char *sles = "NAME=\"SLES\"\nVERSION=\"15-SP4\"\nVERSION_ID=\"15.4\"\nID=\"sles\"\n"
			   "CPE_NAME=\"cpe:/o:suse:sles:15:sp4\"\n";
	dist1(&scanner_dist_suse, "etc/os-release", sles, "sles", "SLES", "15", "", "15", "",
	      "SUSE Linux Enterprise Server 15");
	const char *leap = "NAME=\"openSUSE Leap\"\nVERSION=\"15.5\"\nID=\"opensuse-leap\"\n"
			   "CPE_NAME=\"cpe:/o:opensuse:leap:15.5\"\n";
	dist1(&scanner_dist_suse, "etc/os-release", leap, "opensuse-leap", "openSUSE Leap", "15.5", "", "15.5", "",
	      "openSUSE Leap 15.5");
	const char *ph = "NAME=\"VMware Photon OS\"\nVERSION=\"3.0\"\nID=photon\nVERSION_ID=3.0\n";
	dist1(&scanner_dist_photon, "etc/os-release", ph, "photon", "VMware Photon OS", "3.0", "", "3.0", "",
	      "VMware Photon OS/Linux");
	/* quoting rules */
	char *v = NULL;
	const char *q = "A='it'\\''s'\nB=\"x\\\"y\\$z\\\\\"\n# c\n\n";
	assert_int_equal(scutil_osrelease_get(q, strlen(q), "A", &v), 0);
	assert_string_equal(v, "it's");
	free(v);
	assert_int_equal(scutil_osrelease_get(q, strlen(q), "B", &v), 0);
	assert_string_equal(v, "x\"y$z\\");
	free(v);
	assert_int_equal(scutil_osrelease_get("junk\n", 5, "A", &v), -EINVAL);
}

static void test_repo_rhel(void **state)
{
	(void)state;
	const char *m = "{\"metadata\":{\"image_layer_index\":1},\"content_sets\":[\"rhel-8-for-x86_64-baseos-rpms\","
			"\"rhel-8-for-x86_64-appstream-rpms\",\"rhel-8-for-x86_64-baseos-rpms\"]}";
	struct layer_files l = {0};
	layer_add(&l, "root/buildinfo/content_manifests/ubi8.json", m, strlen(m));
	struct scan_result r = {0};
	scanners_repo_rhel_set_mapping(NULL);
	assert_int_equal(scanner_repo_rhel.scan(&l, &r, NULL), 0);
	assert_int_equal(r.n_repos, 2);
	assert_string_equal(r.repos[0].uri, "repoid=rhel-8-for-x86_64-appstream-rpms");
	assert_string_equal(r.repos[0].key, "rhel-cpe-repository");
	assert_string_equal(r.repos[0].cpe, "");
	scan_result_release(&r);
	const char *tmp = getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp";
	char mp[1024];
	snprintf(mp, sizeof(mp), "%s/r2c-%d.json", tmp, (int)getpid());
	FILE *f = fopen(mp, "w");
	assert_non_null(f);
	fputs("{\"data\":{\"rhel-8-for-x86_64-baseos-rpms\":{\"cpes\":[\"cpe:/o:redhat:enterprise_linux:8::baseos\"]},"
	      "\"rhel-8-for-x86_64-appstream-rpms\":{\"cpes\":[\"cpe:/a:redhat:enterprise_linux:8::appstream\"]}}}",
	      f);
	fclose(f);
	scanners_repo_rhel_set_mapping(mp);
	assert_int_equal(scanner_repo_rhel.scan(&l, &r, NULL), 0);
	assert_int_equal(r.n_repos, 2);
	/* as ubi.index.json's repositories */
	assert_string_equal(r.repos[0].cpe, "cpe:2.3:a:redhat:enterprise_linux:8:*:appstream:*:*:*:*:*");
	assert_string_equal(r.repos[1].cpe, "cpe:2.3:o:redhat:enterprise_linux:8:*:baseos:*:*:*:*:*");
	assert_string_equal(r.repos[1].uri, "repoid=rhel-8-for-x86_64-baseos-rpms");
	scan_result_release(&r);
	scanners_repo_rhel_set_mapping(NULL);
	unlink(mp);
	layer_files_release(&l);
}

static void test_registry(void **state)
{
	(void)state;
	size_t n;
	const struct scanner_desc *const *all = scanners_all(&n);
	assert_int_equal(n, 15);
	assert_null(all[n]);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(all[i]->name);
		assert_non_null(all[i]->want);
		assert_non_null(all[i]->scan);
	}
	assert_string_equal(scanner_dpkg.version, "7");
	assert_string_equal(scanner_rpm.version, "10");
	assert_string_equal(scanner_python.version, "5");
	assert_string_equal(scanner_apk.version, "v0.0.1");
	assert_true(scanner_rpm.want("usr/lib/sysimage/rpm/rpmdb.sqlite", 0));
	assert_true(scanner_python.want("a/b.dist-info/INSTALLER", 0));
	assert_true(scanner_repo_rhel.want("usr/share/buildinfo/x.json", 0));
}

static void test_fuzz(void **state)
{
	(void)state;
	uint8_t buf[8192];
	uint32_t x = 12345;
	int (*fns[])(const uint8_t *, size_t) = {scanners_fuzz_dpkg,	    scanners_fuzz_distroless,
						 scanners_fuzz_apk,	    scanners_fuzz_rpm_header,
						 scanners_fuzz_rpm_bdb,    scanners_fuzz_rpm_ndb,
						 scanners_fuzz_rpm_sqlite, scanners_fuzz_python,
						 scanners_fuzz_osrelease,  scanners_fuzz_repo_rhel};
	for (int round = 0; round < 60; round++) {
		size_t n = (size_t)(round * 131) % sizeof(buf);
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			uint8_t c = (uint8_t)(x >> 16);
			/* bias toward text-like bytes so the parsers go deep */
			buf[i] = round % 2 ? c : (uint8_t)("PVAo:=\n\n\"'abc 019.-()"[c % 22]);
		}
		if (round % 5 == 1 && n > 32) {
			memcpy(buf, "RpmP\0\0\0\0", 8);
			buf[12] = 1;
		}
		if (round % 5 == 2 && n > 512) {
			buf[12] = 0x61, buf[13] = 0x15, buf[14] = 0x06, buf[15] = 0;
			buf[20] = 0, buf[21] = 2, buf[22] = 0, buf[23] = 0, buf[24] = 0, buf[25] = 8;
		}
		for (size_t k = 0; k < sizeof(fns) / sizeof(fns[0]); k++)
			assert_int_equal(fns[k](buf, n), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),   cmocka_unit_test(test_dpkg_details),
		cmocka_unit_test(test_dpkg_real),  cmocka_unit_test(test_apk_real),
		cmocka_unit_test(test_rpm_header), cmocka_unit_test(test_rpm_sqlite_real),
		cmocka_unit_test(test_python),	   cmocka_unit_test(test_dists),
		cmocka_unit_test(test_repo_rhel),  cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests_name("scanners", tests, NULL, NULL);
}

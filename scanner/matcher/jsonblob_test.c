/* jsonblob_test: the NDJSON export format without a database. */
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

#include "scanner/matcher/jsonblob.h"
#include "testlib/testlib.h"

static struct vuln sample(void)
{
	struct vuln v = {0};
	v.id = 42;
	v.updater = "debian/updater/bookworm";
	v.name = "CVE-2024-1234";
	v.description = "line1\nline2 <b>&amp;</b>";
	v.links = "https://a https://b";
	v.severity = "unimportant";
	v.normalized_severity = SEV_NEGLIGIBLE;
	v.pkg.name = "openssl";
	v.pkg.kind = "source";
	v.dist.did = "debian";
	v.dist.version_id = "12";
	v.dist.version_code_name = "bookworm";
	v.fixed_in_version = "3.0.11-1";
	v.arch_op = "equals";
	v.range_introduced = "0";
	v.version_kind = "semver";
	return v;
}

static void test_vuln_json(void **state)
{
	struct vuln v = sample(), back;
	struct diag d = {{0}};
	(void)state;
	json_t *j = jsonblob_vuln_to_json(&v);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "id")), "42");
	assert_string_equal(json_string_value(json_object_get(j, "issued")), "0001-01-01T00:00:00Z");
	assert_string_equal(json_string_value(json_object_get(j, "normalized_severity")), "Negligible");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "package"), "name")), "openssl");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "distribution"), "did")), "debian");
	assert_null(json_object_get(j, "repository")); /* omitted when empty, never null */
	assert_string_equal(json_string_value(json_object_get(j, "arch_op")), "equals");
	assert_null(json_object_get(j, "range_fixed"));
	assert_int_equal(jsonblob_vuln_from_json(j, &back, &d), 0);
	assert_string_equal(back.issued, "");
	assert_string_equal(back.description, v.description);
	assert_string_equal(back.dist.version_code_name, "bookworm");
	assert_string_equal(back.range_introduced, "0");
	assert_int_equal(back.normalized_severity, SEV_NEGLIGIBLE);
	char h1[33], h2[33];
	vuln_hash(&v, h1);
	vuln_hash(&back, h2);
	assert_string_equal(h1, h2);
	vuln_release(&back);
	json_decref(j);
	j = json_string("x");
	assert_int_equal(jsonblob_vuln_from_json(j, &back, &d), -EINVAL);
	json_decref(j);
}

static void roundtrip(const char *name, enum jsonblob_compression c, const unsigned char *magic, size_t nmagic)
{
	char *dir = tl_mkdtemp(), path[512], first[4096];
	struct jsonblob_writer *w = NULL;
	struct jsonblob_reader *r = NULL;
	struct jsonblob_record rec;
	struct diag d = {{0}};
	struct vuln v = sample();
	struct jsonblob_op_hdr h = {"debian/updater/bookworm", "fp\"1", "2026-01-02T03:04:05Z",
	                            "6f1d2c4e-1111-4222-8333-444455556666"};
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(jsonblob_writer_open(path, c, &w, &d), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(jsonblob_write_vuln(w, &h, &v, &d), 0);
	assert_int_equal(jsonblob_writer_close(w, &d), 0);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(first, 1, sizeof(first) - 1, f);
	fclose(f);
	first[n] = '\0';
	assert_memory_equal(first, magic, nmagic);
	if (c == JSONBLOB_PLAIN) /* capitalized header fields, in Clair's order, one object per line */
		assert_int_equal(
		    strncmp(first,
		            "{\"Updater\":\"debian/updater/bookworm\",\"Fingerprint\":\"fp\\\"1\","
		            "\"Date\":\"2026-01-02T03:04:05Z\",\"Ref\":\"6f1d2c4e-1111-4222-8333-444455556666\","
		            "\"Vuln\":{\"id\":\"42\"",
		            strlen("{\"Updater\":\"debian/updater/bookworm\",\"Fingerprint\":\"fp\\\"1\","
		                   "\"Date\":\"2026-01-02T03:04:05Z\",\"Ref\":\"6f1d2c4e-1111-4222-8333-444455556666\","
		                   "\"Vuln\":{\"id\":\"42\"")),
		    0);
	assert_int_equal(jsonblob_reader_open(path, &r, &d), 0);
	int count = 0;
	while (jsonblob_read(r, &rec, &d) == 1) {
		assert_string_equal(rec.updater, h.updater);
		assert_string_equal(rec.fingerprint, "fp\"1");
		assert_string_equal(rec.ref, h.ref);
		assert_string_equal(rec.kind, "vulnerability");
		assert_true(rec.has_vuln);
		assert_string_equal(rec.vuln.name, "CVE-2024-1234");
		jsonblob_record_release(&rec);
		count++;
	}
	assert_int_equal(count, 1000);
	jsonblob_reader_close(r);
	unlink(path);
	rmdir(dir);
	free(dir);
}

static void test_plain(void **state)
{
	(void)state;
	roundtrip("x.json", JSONBLOB_PLAIN, (const unsigned char *)"{\"Updater\"", 10);
}

static void test_gzip(void **state)
{
	static const unsigned char m[] = {0x1f, 0x8b};
	(void)state;
	assert_int_equal(jsonblob_compression_for_path("a/b.json.gz"), JSONBLOB_GZIP);
	roundtrip("x.json.gz", JSONBLOB_GZIP, m, 2);
}

static void test_zstd(void **state)
{
	static const unsigned char m[] = {0x28, 0xb5, 0x2f, 0xfd};
	(void)state;
	assert_int_equal(jsonblob_compression_for_path("b.zst"), JSONBLOB_ZSTD);
	assert_int_equal(jsonblob_compression_for_path("b.json"), JSONBLOB_PLAIN);
	roundtrip("x.zst", JSONBLOB_ZSTD, m, 4);
}

static void test_bad_input(void **state)
{
	char *dir = tl_mkdtemp();
	struct jsonblob_reader *r = NULL;
	struct jsonblob_record rec;
	struct diag d = {{0}};
	(void)state;
	char *p = tl_write_file(dir, "bad.json",
	                        "\n{\"Updater\":\"u\",\"Ref\":\"r\",\"Kind\":\"enrichment\",\"Enrichment\":{}}\n   \n"
	                        "{\"Updater\":\"u\",\"Vuln\":[1]}\n");
	assert_int_equal(jsonblob_reader_open(p, &r, &d), 0);
	assert_int_equal(jsonblob_read(r, &rec, &d), 1);
	assert_string_equal(rec.kind, "enrichment");
	assert_false(rec.has_vuln);
	jsonblob_record_release(&rec);
	assert_int_equal(jsonblob_read(r, &rec, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "line 4"));
	jsonblob_reader_close(r);
	unlink(p);
	free(p);
	p = tl_write_file(dir, "trunc.json", "{\"Updater\":\"u\",\"Vu");
	assert_int_equal(jsonblob_reader_open(p, &r, &d), 0);
	assert_int_equal(jsonblob_read(r, &rec, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "line 1"));
	jsonblob_reader_close(r);
	unlink(p);
	free(p);
	p = tl_write_file(dir, "empty.json", "");
	assert_int_equal(jsonblob_reader_open(p, &r, &d), 0);
	assert_int_equal(jsonblob_read(r, &rec, &d), 0);
	jsonblob_reader_close(r);
	unlink(p);
	free(p);
	rmdir(dir);
	free(dir);
	char ref[37];
	jsonblob_new_ref(ref);
	assert_int_equal(strlen(ref), 36);
	assert_int_equal(ref[14], '4');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vuln_json), cmocka_unit_test(test_plain),     cmocka_unit_test(test_gzip),
	    cmocka_unit_test(test_zstd),      cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests_name("jsonblob", tests, NULL, NULL);
}

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/base64.h"

struct vec {
	const char *plain;
	const char *std;
	const char *url;
};

/* RFC 4648 §10 test vectors. */
static const struct vec rfc_vectors[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

static void test_rfc_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
		const struct vec *v = &rfc_vectors[i];
		size_t n = strlen(v->plain), len = 99;
		char enc[32];
		unsigned char dec[32];

		assert_int_equal(base64_encoded_len(n, BASE64_STD), strlen(v->std));
		assert_int_equal(base64_encoded_len(n, BASE64_URL), strlen(v->url));
		assert_int_equal(base64_encode(v->plain, n, BASE64_STD, enc, sizeof(enc)), 0);
		assert_string_equal(enc, v->std);
		assert_int_equal(base64_encode(v->plain, n, BASE64_URL, enc, sizeof(enc)), 0);
		assert_string_equal(enc, v->url);

		assert_int_equal(base64_decode(v->std, strlen(v->std), BASE64_STD, dec, sizeof(dec), &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(dec, v->plain, n);
		len = 99;
		assert_int_equal(
		    base64_decode(v->url, strlen(v->url), BASE64_URL | BASE64_CANONICAL, dec, sizeof(dec), &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(dec, v->plain, n);
		assert_true(base64_decoded_max(strlen(v->url)) >= n);
	}
}

static void test_alphabets(void **state)
{
	/* 0xfb 0xef 0xbe is four 62s ("++++" / "----"); 0xff 0xff 0xff is four 63s ("////" / "____") */
	const unsigned char raw[] = {0xfb, 0xef, 0xbe, 0xfb, 0xef, 0xbe};
	unsigned char dec[8];
	size_t len;
	char *s = NULL;
	(void)state;

	assert_int_equal(base64_encode_alloc(raw, sizeof(raw), BASE64_STD, &s), 0);
	assert_string_equal(s, "++++++++");
	free(s);
	const unsigned char raw2[] = {0xff, 0xff, 0xff};
	assert_int_equal(base64_encode_alloc(raw2, 3, BASE64_STD, &s), 0);
	assert_string_equal(s, "////");
	free(s);
	assert_int_equal(base64_encode_alloc(raw2, 3, BASE64_URL, &s), 0);
	assert_string_equal(s, "____");
	free(s);
	assert_int_equal(base64_encode_alloc(raw, sizeof(raw), BASE64_URL, &s), 0);
	assert_string_equal(s, "--------");
	free(s);
	/* the other variant's characters are not accepted */
	assert_int_equal(base64_decode("____", 4, BASE64_STD, dec, sizeof(dec), &len), -EINVAL);
	assert_int_equal(base64_decode("////", 4, BASE64_URL, dec, sizeof(dec), &len), -EINVAL);
	assert_int_equal(base64_decode("++++", 4, BASE64_URL, dec, sizeof(dec), &len), -EINVAL);
	assert_int_equal(base64_decode("----", 4, BASE64_STD, dec, sizeof(dec), &len), -EINVAL);
}

static void test_all_bytes_round_trip(void **state)
{
	unsigned char raw[256], *dec = NULL;
	size_t len;
	(void)state;
	for (int i = 0; i < 256; i++)
		raw[i] = (unsigned char)i;
	for (size_t n = 0; n <= sizeof(raw); n += 7) {
		for (int variant = BASE64_STD; variant <= BASE64_URL; variant++) {
			char *enc = NULL;
			assert_int_equal(base64_encode_alloc(raw, n, variant, &enc), 0);
			assert_int_equal(strlen(enc), base64_encoded_len(n, variant));
			assert_int_equal(base64_decode_alloc(enc, strlen(enc), variant | BASE64_CANONICAL, &dec, &len),
			                 0);
			assert_int_equal(len, n);
			assert_memory_equal(dec, raw, n);
			assert_int_equal(dec[len], 0);
			free(dec);
			free(enc);
		}
	}
}

static void test_bad_inputs(void **state)
{
	static const struct {
		const char *in;
		int variant;
	} bad[] = {
	    {"Zg=", BASE64_STD}, /* length not a multiple of 4 */
	    {"Zg", BASE64_STD},  /* padding required */
	    {"Z", BASE64_STD},
	    {"Zm9vY", BASE64_URL}, /* 1 mod 4 */
	    {"Z", BASE64_URL},
	    {"Zg==", BASE64_URL}, /* no padding in URL variant */
	    {"Zm9=", BASE64_URL},
	    {"Z===", BASE64_STD}, /* three padding characters */
	    {"====", BASE64_STD},
	    {"Zg=a", BASE64_STD}, /* padding in the middle */
	    {"Z=g=", BASE64_STD},
	    {"Zg==Zg==", BASE64_STD}, /* padding then data */
	    {"Zm9v\n", BASE64_STD},   /* whitespace */
	    {"Zm 9", BASE64_STD},
	    {"Zm9v ", BASE64_URL},
	    {"Zm9*", BASE64_STD},
	    {"Zm9.", BASE64_URL},
	    {"Zh==", BASE64_STD | BASE64_CANONICAL}, /* non-zero trailing bits */
	    {"Zm9=", BASE64_STD | BASE64_CANONICAL},
	    {"Zh", BASE64_URL | BASE64_CANONICAL},
	};
	unsigned char out[16];
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = 7;
		unsigned char *p = (unsigned char *)"x";
		int r = base64_decode(bad[i].in, strlen(bad[i].in), bad[i].variant, out, sizeof(out), &len);
		if (r != -EINVAL)
			fail_msg("case %zu \"%s\": got %d", i, bad[i].in, r);
		assert_int_equal(len, 0);
		assert_int_equal(base64_decode_alloc(bad[i].in, strlen(bad[i].in), bad[i].variant, &p, &len), -EINVAL);
		assert_null(p);
	}
	/* an embedded NUL is a bad character, not a terminator */
	assert_int_equal(base64_decode("Zm\0v", 4, BASE64_STD, out, sizeof(out), NULL), -EINVAL);
}

static void test_lenient_trailing_bits(void **state)
{
	unsigned char out[4];
	size_t len;
	(void)state;
	/* "Zh==" has non-zero unused bits; like Go's StdEncoding we decode it to "f" by default */
	assert_int_equal(base64_decode("Zh==", 4, BASE64_STD, out, sizeof(out), &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(out[0], 'f');
}

static void test_text_wrappers(void **state)
{
	unsigned char *key = NULL;
	size_t len = 0;
	char *s = NULL;
	(void)state;
	assert_int_equal(base64_decode_std_alloc("MTU5YzA4Y2ZkNzJoMQ==", &key, &len), 0);
	assert_int_equal(len, 13);
	assert_string_equal((char *)key, "159c08cfd72h1");
	assert_int_equal(base64_encode_url_alloc(key, len, &s), 0);
	assert_string_equal(s, "MTU5YzA4Y2ZkNzJoMQ");
	free(key);
	key = NULL;
	assert_int_equal(base64_decode_url_alloc(s, &key, &len), 0);
	assert_memory_equal(key, "159c08cfd72h1", 13);
	free(key);
	free(s);
	assert_int_equal(base64_encode_std_alloc("\xff\xfe", 2, &s), 0);
	assert_string_equal(s, "//4=");
	free(s);
	assert_int_equal(base64_decode_std_alloc("MTU5YzA4Y2ZkNzJoMQ", &key, &len), -EINVAL);
	assert_null(key);
}

static void test_buffer_limits(void **state)
{
	char enc[8];
	unsigned char dec[5];
	size_t len;
	(void)state;
	/* "foobar" needs 8 chars + NUL */
	assert_int_equal(base64_encode("foobar", 6, BASE64_STD, enc, 8), -ENOBUFS);
	assert_int_equal(base64_encode("fooba", 5, BASE64_URL, enc, 8), 0);
	assert_string_equal(enc, "Zm9vYmE");
	assert_int_equal(base64_decode("Zm9vYmFy", 8, BASE64_STD, dec, 5, &len), -ENOBUFS);
	assert_int_equal(base64_decode("Zm9vYmE=", 8, BASE64_STD, dec, 5, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(dec, "fooba", 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc_vectors),           cmocka_unit_test(test_alphabets),
	    cmocka_unit_test(test_all_bytes_round_trip),  cmocka_unit_test(test_bad_inputs),
	    cmocka_unit_test(test_lenient_trailing_bits), cmocka_unit_test(test_text_wrappers),
	    cmocka_unit_test(test_buffer_limits),
	};
	return cmocka_run_group_tests_name("common/base64", tests, NULL, NULL);
}

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/base64.h"
#include "common/jwt.h"

static const unsigned char key[] = "159c08cfd72h1";
#define KEY_LEN (sizeof(key) - 1)
static const char *const clair_issuers[] = {"clair-intraservice", "quay"};
#define NOW ((time_t)1700000000)

static struct jwt_verify_opts opts(void)
{
	struct jwt_verify_opts o = {key, KEY_LEN, clair_issuers, 2, JWT_CLAIR_LEEWAY_S, NOW};
	return o;
}

static char *b64url(const char *s, size_t n)
{
	char *out = NULL;
	assert_int_equal(base64_encode_alloc(s, n, BASE64_URL, &out), 0);
	return out;
}

/* Builds "<b64(header)>.<b64(payload)>.<b64(hmac)>" by hand (md NULL: empty signature). */
static char *make_token(const char *header, const char *payload, const EVP_MD *md, const unsigned char *k, size_t klen)
{
	char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload)), *sig = NULL, *tok;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	size_t n = strlen(h) + strlen(p) + 2 + 2 * EVP_MAX_MD_SIZE;

	tok = malloc(n);
	assert_non_null(tok);
	snprintf(tok, n, "%s.%s", h, p);
	if (md) {
		assert_non_null(HMAC(md, k, (int)klen, (unsigned char *)tok, strlen(tok), mac, &mac_len));
		sig = b64url((char *)mac, mac_len);
	}
	snprintf(tok + strlen(tok), n - strlen(tok), ".%s", sig ? sig : "");
	free(h);
	free(p);
	free(sig);
	return tok;
}

static char *make_hs256(const char *payload)
{
	return make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, EVP_sha256(), key, KEY_LEN);
}

static int verify(const char *tok, struct diag *d)
{
	struct jwt_verify_opts o = opts();
	return jwt_verify(tok, &o, d);
}

static void test_round_trip(void **state)
{
	struct diag d = {{0}};
	char *tok = NULL;
	json_t *claims = json_pack("{s:s,s:I}", "iss", "quay", "exp", (json_int_t)NOW + 300);
	(void)state;

	assert_int_equal(jwt_sign_hs256(key, KEY_LEN, claims, &tok, &d), 0);
	/* base64url of {"alg":"HS256","typ":"JWT"} */
	assert_memory_equal(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37);
	assert_null(strchr(tok, '='));
	assert_int_equal(verify(tok, &d), 0);
	free(tok);
	json_decref(claims);

	claims = json_array();
	assert_int_equal(jwt_sign_hs256(key, KEY_LEN, claims, &tok, &d), -EINVAL);
	assert_null(tok);
	json_decref(claims);
	claims = json_object();
	assert_int_equal(jwt_sign_hs256(key, 0, claims, &tok, &d), -EINVAL);
	assert_null(tok);
	json_decref(claims);
}

static void test_sign_psk_claims(void **state)
{
	struct diag d = {{0}};
	char *tok = NULL;
	const char *dot1, *dot2;
	unsigned char *raw = NULL;
	size_t raw_len;
	(void)state;

	assert_int_equal(jwt_sign_psk(key, KEY_LEN, "clair-notifier", NOW, &tok, &d), 0);
	dot1 = strchr(tok, '.');
	dot2 = strchr(dot1 + 1, '.');
	assert_int_equal(base64_decode_alloc(dot1 + 1, (size_t)(dot2 - dot1 - 1), BASE64_URL, &raw, &raw_len), 0);
	json_t *j = json_loadb((char *)raw, raw_len, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "iss")), "clair-notifier");
	assert_int_equal(json_integer_value(json_object_get(j, "iat")), NOW);
	assert_int_equal(json_integer_value(json_object_get(j, "nbf")), NOW - 60);
	assert_int_equal(json_integer_value(json_object_get(j, "exp")), NOW + 60);
	assert_int_equal(json_object_size(j), 4);
	json_decref(j);
	free(raw);

	/* valid for Clair only if the issuer is accepted */
	assert_int_equal(verify(tok, &d), -EACCES);
	assert_non_null(strstr(d.msg, "clair-notifier"));
	const char *const iss[] = {"clair-notifier"};
	struct jwt_verify_opts o = opts();
	o.issuers = iss;
	o.n_issuers = 1;
	assert_int_equal(jwt_verify(tok, &o, &d), 0);
	/* 61 s + 15 s leeway later it has expired */
	o.now = NOW + 75;
	assert_int_equal(jwt_verify(tok, &o, &d), 0);
	o.now = NOW + 76;
	assert_int_equal(jwt_verify(tok, &o, &d), -EACCES);
	free(tok);

	/* now == 0 uses the clock */
	assert_int_equal(jwt_sign_psk(key, KEY_LEN, "quay", 0, &tok, &d), 0);
	o = opts();
	o.now = 0;
	assert_int_equal(jwt_verify(tok, &o, &d), 0);
	free(tok);
}

/* RFC 7515 appendix A.1 (HS256, CRLF in the JSON, a custom claim). */
static void test_rfc7515_vector(void **state)
{
	static const char tok[] =
	    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
	    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
	    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	static const char k64[] =
	    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
	const char *const iss[] = {"joe"};
	unsigned char *k = NULL;
	size_t klen;
	struct diag d = {{0}};
	(void)state;

	assert_int_equal(base64_decode_url_alloc(k64, &k, &klen), 0);
	struct jwt_verify_opts o = {k, klen, iss, 1, 15, 1300819380};
	assert_int_equal(jwt_verify(tok, &o, &d), 0);
	o.now = 1300819380 + 16;
	assert_int_equal(jwt_verify(tok, &o, &d), -EACCES);
	assert_non_null(strstr(d.msg, "expired"));
	free(k);
}

static int have_python(void)
{
	return system("python3 -c 'import hmac, hashlib, base64, json' >/dev/null 2>&1") == 0;
}

/* An independent signer: python's standard library only. Prints the token. */
#define PY_SIGN                                                                                                        \
	"import hmac, hashlib, base64, json, sys\n"                                                                    \
	"k = bytes.fromhex(sys.argv[1]); a = sys.argv[2]\n"                                                            \
	"h = {\"HS256\": hashlib.sha256, \"HS384\": hashlib.sha384, \"HS512\": hashlib.sha512}[a]\n"                   \
	"b = lambda x: base64.urlsafe_b64encode(x).rstrip(b\"=\").decode()\n"                                          \
	"hd = b(json.dumps({\"typ\": \"JWT\", \"alg\": a}).encode())\n"                                                \
	"pl = b(json.dumps({\"iss\": sys.argv[3], \"exp\": int(sys.argv[4]), \"iat\": float(sys.argv[5]), "            \
	"\"aud\": [\"x\"]}).encode())\n"                                                                               \
	"s = hd + \".\" + pl\n"                                                                                        \
	"print(s + \".\" + b(hmac.new(k, s.encode(), h).digest()))\n"

/* An independent verifier: prints the payload when the HS256 signature matches. */
#define PY_VERIFY                                                                                                      \
	"import hmac, hashlib, base64, sys\n"                                                                          \
	"k = bytes.fromhex(sys.argv[1]); h, p, s = sys.argv[2].split(\".\")\n"                                         \
	"d = lambda x: base64.urlsafe_b64decode(x + \"=\" * (-len(x) % 4))\n"                                          \
	"m = hmac.new(k, (h + \".\" + p).encode(), hashlib.sha256).digest()\n"                                         \
	"print(d(p).decode() if hmac.compare_digest(m, d(s)) else \"BAD\")\n"

static char *run_python(const char *script, const char *args)
{
	char cmd[4096], hex[2 * sizeof(key)], out[2048];
	FILE *f;
	size_t n;

	for (size_t i = 0; i < KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	/* the scripts use no single quotes, so they can be single-quoted for the shell */
	snprintf(cmd, sizeof(cmd), "python3 -c '%s' %s %s", script, hex, args);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	assert_int_equal(pclose(f), 0);
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return strdup(out);
}

static void test_python_signed(void **state)
{
	static const char *const algs[] = {"HS256", "HS384", "HS512"};
	struct diag d = {{0}};
	char args[256];
	(void)state;
	if (!have_python())
		skip();
	for (size_t i = 0; i < 3; i++) {
		snprintf(args, sizeof(args), "%s quay %lld %lld.75", algs[i], (long long)NOW + 300,
		         (long long)NOW + 10);
		char *tok = run_python(PY_SIGN, args);
		assert_int_equal(verify(tok, &d), 0);
		/* iat is a float 10.75 s in the future: outside a 10 s leeway */
		struct jwt_verify_opts o = opts();
		o.leeway_s = 10;
		assert_int_equal(jwt_verify(tok, &o, &d), 0); /* truncated to +10 like go-jose */
		o.leeway_s = 9;
		assert_int_equal(jwt_verify(tok, &o, &d), -EACCES);
		assert_non_null(strstr(d.msg, "future"));
		free(tok);
	}
	/* a python token for an issuer Clair does not know */
	snprintf(args, sizeof(args), "HS512 mallory %lld %lld", (long long)NOW + 300, (long long)NOW);
	char *tok = run_python(PY_SIGN, args);
	assert_int_equal(verify(tok, &d), -EACCES);
	free(tok);
}

static void test_python_verifies_ours(void **state)
{
	struct diag d = {{0}};
	char *tok = NULL, args[1024];
	(void)state;
	if (!have_python())
		skip();
	assert_int_equal(jwt_sign_psk(key, KEY_LEN, "clair-notifier", NOW, &tok, &d), 0);
	snprintf(args, sizeof(args), "%s", tok);
	char *out = run_python(PY_VERIFY, args);
	json_t *j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "exp")), NOW + 60);
	json_decref(j);
	free(out);
	free(tok);
}

static void test_tamper_and_wrong_key(void **state)
{
	struct diag d = {{0}};
	char *tok = make_hs256("{\"iss\":\"quay\"}");
	char *forged, *dot2;
	(void)state;

	assert_int_equal(verify(tok, &d), 0);
	/* flip one signature character */
	dot2 = strrchr(tok, '.');
	char orig = dot2[3];
	dot2[3] = orig == 'A' ? 'B' : 'A';
	assert_int_equal(verify(tok, &d), -EACCES);
	assert_non_null(strstr(d.msg, "signature"));
	dot2[3] = orig;
	assert_int_equal(verify(tok, &d), 0);
	/* truncated signature */
	char *trunc = strndup(tok, strlen(tok) - 4);
	assert_int_equal(verify(trunc, &d), -EACCES);
	free(trunc);

	/* swap in another payload but keep the signature */
	char *other = make_hs256("{\"iss\":\"clair-intraservice\"}");
	const char *o2 = strrchr(other, '.');
	size_t n = strlen(tok) + strlen(other);
	forged = malloc(n);
	snprintf(forged, n, "%.*s%s", (int)(o2 - other), other, strrchr(tok, '.'));
	assert_int_equal(verify(forged, &d), -EACCES);
	free(forged);
	free(other);

	/* wrong key */
	struct jwt_verify_opts o = opts();
	o.key = (const unsigned char *)"159c08cfd72h2";
	assert_int_equal(jwt_verify(tok, &o, &d), -EACCES);
	o.key_len = 0;
	assert_int_equal(jwt_verify(tok, &o, &d), -EINVAL);
	free(tok);

	/* signed with HS256 but claiming HS512 */
	tok = make_token("{\"alg\":\"HS512\"}", "{\"iss\":\"quay\"}", EVP_sha256(), key, KEY_LEN);
	assert_int_equal(verify(tok, &d), -EACCES);
	free(tok);
}

static void test_time_claims(void **state)
{
	static const struct {
		const char *claim;
		long long off;
		int want;
	} cases[] = {
	    {"exp", -15, 0},      {"exp", -16, -EACCES}, {"exp", 0, 0},  {"exp", -3600, -EACCES}, {"nbf", 15, 0},
	    {"nbf", 16, -EACCES}, {"nbf", -3600, 0},     {"iat", 15, 0}, {"iat", 16, -EACCES},    {"iat", -86400, 0},
	};
	struct diag d = {{0}};
	char payload[256];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int as_float = 0; as_float < 2; as_float++) {
			if (as_float)
				snprintf(payload, sizeof(payload), "{\"iss\":\"quay\",\"%s\":%lld.0}", cases[i].claim,
				         (long long)NOW + cases[i].off);
			else
				snprintf(payload, sizeof(payload), "{\"iss\":\"quay\",\"%s\":%lld}", cases[i].claim,
				         (long long)NOW + cases[i].off);
			char *tok = make_hs256(payload);
			int r = verify(tok, &d);
			if (r != cases[i].want)
				fail_msg("%s %+lld (float %d): want %d got %d (%s)", cases[i].claim, cases[i].off,
				         as_float, cases[i].want, r, d.msg);
			free(tok);
		}
	}
}

static void test_claims_table(void **state)
{
	static const struct {
		const char *payload;
		int want;
	} cases[] = {
	    {"{\"iss\":\"quay\"}", 0}, /* no time claims at all */
	    {"{\"iss\":\"clair-intraservice\",\"exp\":null,\"nbf\":null}", 0},
	    {"{\"iss\":\"quay\",\"aud\":\"x\",\"sub\":\"y\",\"jti\":\"z\"}", 0},
	    {"{\"iss\":\"quay\",\"aud\":[\"a\",\"b\"]}", 0},
	    {"{\"iss\":\"quay\",\"exp\":1e300}", 0},
	    {"{\"iss\":\"quay\",\"exp\":-1e300}", -EACCES},
	    {"{\"iss\":\"quay\",\"exp\":9223372036854775807}", 0},
	    {"{\"iss\":\"quay\",\"nbf\":-9223372036854775807}", 0},
	    {"{}", -EACCES},                   /* missing iss */
	    {"{\"exp\":1800000000}", -EACCES}, /* missing iss */
	    {"{\"iss\":null}", -EACCES},
	    {"{\"iss\":\"Quay\"}", -EACCES}, /* case-sensitive */
	    {"{\"iss\":\"quay \"}", -EACCES},
	    {"{\"iss\":\"\"}", -EACCES},
	    {"{\"iss\":\"clairctl\"}", -EACCES}, /* not in the list */
	    {"{\"iss\":5}", -EINVAL},
	    {"{\"iss\":[\"quay\"]}", -EINVAL},
	    {"{\"iss\":\"quay\",\"exp\":\"1800000000\"}", -EINVAL},
	    {"{\"iss\":\"quay\",\"iat\":true}", -EINVAL},
	    {"{\"iss\":\"quay\",\"sub\":1}", -EINVAL},
	    {"{\"iss\":\"quay\",\"aud\":[1]}", -EINVAL},
	    {"{\"iss\":\"quay\",\"aud\":{}}", -EINVAL},
	    {"{\"iss\":\"quay\",\"iss\":\"mallory\"}", -EINVAL}, /* duplicate keys */
	    {"[\"iss\",\"quay\"]", -EINVAL},
	    {"\"quay\"", -EINVAL},
	    {"{\"iss\":\"quay\"", -EINVAL},
	    {"", -EINVAL},
	};
	struct diag d = {{0}};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *tok = make_hs256(cases[i].payload);
		int r = verify(tok, &d);
		if (r != cases[i].want)
			fail_msg("case %zu %s: want %d got %d (%s)", i, cases[i].payload, cases[i].want, r, d.msg);
		free(tok);
	}
}

static void test_algs(void **state)
{
	static const struct {
		const char *header;
		int want;
	} cases[] = {
	    {"{\"alg\":\"HS256\"}", 0},
	    {"{\"typ\":\"JWT\",\"alg\":\"HS256\",\"kid\":\"x\"}", 0},
	    {"{\"alg\":\"none\"}", -EACCES},
	    {"{\"alg\":\"None\"}", -EACCES},
	    {"{\"alg\":\"hs256\"}", -EACCES},
	    {"{\"alg\":\"RS256\"}", -EACCES},
	    {"{\"alg\":\"ES256\"}", -EACCES},
	    {"{\"alg\":\"\"}", -EACCES},
	    {"{\"alg\":256}", -EACCES},
	    {"{\"typ\":\"JWT\"}", -EACCES},
	    {"{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}", -EACCES},
	    {"{\"alg\":\"HS256\",\"alg\":\"none\"}", -EINVAL},
	    {"[\"HS256\"]", -EINVAL},
	    {"not json", -EINVAL},
	};
	struct diag d = {{0}};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *tok = make_token(cases[i].header, "{\"iss\":\"quay\"}", EVP_sha256(), key, KEY_LEN);
		int r = verify(tok, &d);
		if (r != cases[i].want)
			fail_msg("case %zu %s: want %d got %d (%s)", i, cases[i].header, cases[i].want, r, d.msg);
		free(tok);
	}
	/* the classic: alg none with an empty signature */
	char *tok = make_token("{\"alg\":\"none\",\"typ\":\"JWT\"}", "{\"iss\":\"quay\"}", NULL, NULL, 0);
	assert_int_equal(verify(tok, &d), -EACCES);
	assert_non_null(strstr(d.msg, "none"));
	free(tok);
	/* HS384 and HS512 made by OpenSSL directly */
	tok = make_token("{\"alg\":\"HS384\"}", "{\"iss\":\"quay\"}", EVP_sha384(), key, KEY_LEN);
	assert_int_equal(verify(tok, &d), 0);
	free(tok);
	tok = make_token("{\"alg\":\"HS512\"}", "{\"iss\":\"quay\"}", EVP_sha512(), key, KEY_LEN);
	assert_int_equal(verify(tok, &d), 0);
	free(tok);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "a",
	    ".",
	    "..",
	    "a.b",
	    "a.b.c.d",
	    "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJxdWF5In0",
	    "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJxdWF5In0.",
	    "eyJhbGciOiJIUzI1NiJ9..sig",
	    ".eyJpc3MiOiJxdWF5In0.sig",
	    "eyJhbGciOiJIUzI1NiJ9=.eyJpc3MiOiJxdWF5In0.sig",
	    "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJxdWF5In0=.sig",
	    "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJxdWF5In0.s!g",
	    "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJxdWF5In0.s+g/",
	    "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJxdWF5In0.abcde",
	    "ey!hbGciOiJIUzI1NiJ9.eyJpc3MiOiJxdWF5In0.sig",
	    "eyJhbGciOiJIUzI1NiJ9 .eyJpc3MiOiJxdWF5In0.sig",
	    "not.a.jwt",
	    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJxdWF5In0.sig",
	};
	struct diag d = {{0}};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = verify(bad[i], &d);
		if (r != -EINVAL && r != -EACCES)
			fail_msg("case %zu \"%s\": got %d", i, bad[i], r);
		assert_true(d.msg[0] != '\0');
	}
	assert_int_equal(verify("a.b.c.d", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "three segments"));
	assert_int_equal(verify(NULL, &d), -EINVAL);
	/* a long signature must not overflow anything */
	char *longsig = malloc(8000);
	memset(longsig, 'A', 7999);
	longsig[7999] = '\0';
	memcpy(longsig, "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJxdWF5In0.", 41);
	assert_int_equal(verify(longsig, &d), -EACCES);
	free(longsig);
}

static void test_size_cap(void **state)
{
	struct diag d = {{0}};
	char *payload = malloc(JWT_MAX_TOKEN + 64);
	size_t fill;
	(void)state;
	/* grow a valid token to just under and just over the cap */
	for (fill = 5800; fill < 6300; fill++) {
		snprintf(payload, JWT_MAX_TOKEN + 64, "{\"iss\":\"quay\",\"x\":\"%0*d\"}", (int)fill, 0);
		char *tok = make_hs256(payload);
		size_t n = strlen(tok);
		int r = verify(tok, &d);
		free(tok);
		if (n <= JWT_MAX_TOKEN) {
			assert_int_equal(r, 0);
		} else {
			assert_int_equal(r, -EINVAL);
			assert_non_null(strstr(d.msg, "longer"));
			break;
		}
	}
	assert_true(fill < 6300);
	free(payload);
	/* a huge string of dots and garbage */
	char *huge = malloc(1 << 20);
	memset(huge, '.', (1 << 20) - 1);
	huge[(1 << 20) - 1] = '\0';
	assert_int_equal(verify(huge, &d), -EINVAL);
	free(huge);
}

static void test_from_authorization(void **state)
{
	(void)state;
	assert_string_equal(jwt_from_authorization("Bearer abc.def.ghi"), "abc.def.ghi");
	assert_string_equal(jwt_from_authorization("Bearer "), "");
	assert_string_equal(jwt_from_authorization("Bearer  x"), " x");
	assert_null(jwt_from_authorization("bearer abc"));
	assert_null(jwt_from_authorization("BEARER abc"));
	assert_null(jwt_from_authorization("Bearer"));
	assert_null(jwt_from_authorization("Bearerabc"));
	assert_null(jwt_from_authorization(" Bearer abc"));
	assert_null(jwt_from_authorization("Basic dXNlcjpwYXNz"));
	assert_null(jwt_from_authorization(""));
	assert_null(jwt_from_authorization(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_sign_psk_claims),
	    cmocka_unit_test(test_rfc7515_vector),
	    cmocka_unit_test(test_python_signed),
	    cmocka_unit_test(test_python_verifies_ours),
	    cmocka_unit_test(test_tamper_and_wrong_key),
	    cmocka_unit_test(test_time_claims),
	    cmocka_unit_test(test_claims_table),
	    cmocka_unit_test(test_algs),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_size_cap),
	    cmocka_unit_test(test_from_authorization),
	};
	return cmocka_run_group_tests_name("common/jwt", tests, NULL, NULL);
}

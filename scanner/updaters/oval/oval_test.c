/* Tests of the OVAL engine and the OVAL updater sets on the real samples in
 * $SHARED_DIR/testdata/feeds (read in place), checked against independent readings of the same files
 * (python3 xml.etree via popen) and against testdata/expected/rhel (OpenSCAP's verdicts). */
#include <errno.h>
#include <jansson.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "scanner/matcher/version/version.h"
#include "scanner/updaters/oval/oval.h"
#include "scanner/updaters/oval/oval_sets.h"
#include "testlib/testlib.h"

static const char *feeds(void)
{
	static char p[1024];
	const char *s = tl_env("SHARED_DIR");
	if (!s)
		return NULL;
	snprintf(p, sizeof(p), "%s/testdata", s);
	return p;
}

#define NEED_SHARED()                                                               \
	do {                                                                        \
		if (!feeds()) {                                                     \
			print_message("SKIP: SHARED_DIR is unset (no real samples)\n"); \
			skip();                                                     \
		}                                                                   \
	} while (0)

static const char pyscript[] =
	"import sys,re,xml.etree.ElementTree as ET\n"
	"def ln(t): return t.rsplit('}',1)[-1]\n"
	"root=ET.parse(sys.argv[1]).getroot()\n"
	"mode=sys.argv[2]\n"
	"if mode=='defs':\n"
	"  print(len([e for e in root.iter() if ln(e.tag)=='definition'])); sys.exit(0)\n"
	"idx={}\n"
	"for sec in root:\n"
	"  if ln(sec.tag) in ('tests','objects','states','variables'):\n"
	"    for e in sec: idx[e.get('id')]=e\n"
	"n=0\n"
	"for d in root.iter():\n"
	"  if ln(d.tag)!='definition': continue\n"
	"  m=re.match(r'oval:[^:]*\\.([^.:]+):def:',d.get('id') or '')\n"
	"  typ=m.group(1) if m else ''\n"
	"  md=[c for c in d if ln(c.tag)=='metadata'][0]\n"
	"  cpes=[c.text.strip() for c in md.iter() if ln(c.tag)=='cpe' and c.text and c.text.strip()]\n"
	"  plats=[c.text.strip() for c in md.iter() if ln(c.tag)=='platform' and c.text]\n"
	"  if mode=='rhel':\n"
	"    if typ in ('unaffected','none'): continue\n"
	"    mult=len(cpes)\n"
	"  elif mode=='oracle':\n"
	"    mult=len([p for p in plats if re.fullmatch('Oracle Linux [5-9]',p)])\n"
	"  else: mult=1\n"
	"  crits=[c for c in d.iter() if ln(c.tag)=='criterion']\n"
	"  mods=[x.group(1) for c in crits for x in [re.search('Module (.*) is enabled',c.get('comment',''))] if x]\n"
	"  nm=max(len(mods),1)\n"
	"  for c in crits:\n"
	"    t=idx.get(c.get('test_ref'))\n"
	"    if t is None or ln(t.tag)!='rpminfo_test': continue\n"
	"    o=[x.get('object_ref') for x in t if ln(x.tag)=='object']\n"
	"    s=[x.get('state_ref') for x in t if ln(x.tag)=='state']\n"
	"    o=idx.get(o[0]) if o else None\n"
	"    if o is None or ln(o.tag)!='rpminfo_object': continue\n"
	"    if s:\n"
	"      s=idx.get(s[0])\n"
	"      if s is None or ln(s.tag)!='rpminfo_state': continue\n"
	"      if not [x for x in s if ln(x.tag)=='evr']: continue\n"
	"    n+=nm*mult\n"
	"print(n)\n";

/* The independent count: python3 over xml.etree. */
static long py_count(const char *file, const char *mode)
{
	char *dir = tl_mkdtemp();
	char *script = tl_write_file(dir, "count.py", pyscript);
	char *cmd = tl_fmt("python3 '%s' '%s' %s", script, file, mode);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	long n = -1;
	assert_int_equal(fscanf(p, "%ld", &n), 1);
	assert_int_equal(pclose(p), 0);
	free(cmd);
	free(script);
	free(dir);
	return n;
}

struct counter {
	size_t defs, vulns;
	const char *want_prefix; /* keep vulns whose name starts with this */
	struct vuln_list kept;
};

static int count_add(void *ctx, const struct vuln *v)
{
	struct counter *c = ctx;
	c->vulns++;
	if (c->want_prefix && !strncmp(v->name, c->want_prefix, strlen(c->want_prefix)))
		return vuln_list_add(&c->kept, v);
	return 0;
}

static int count_def(void *ctx, const struct oval_doc *doc, const struct oval_def *def)
{
	(void)doc;
	(void)def;
	((struct counter *)ctx)->defs++;
	return 0;
}

/* The concrete updater named name from set (default config plus cfg). */
static struct updater_src *find_src(const struct updater_set *set, const char *cfgjson, const char *name,
				    struct updater_src **all, size_t *n)
{
	json_t *cfg = cfgjson ? json_loads(cfgjson, 0, NULL) : NULL;
	struct diag d = {{0}};
	*all = NULL;
	*n = 0;
	assert_int_equal(set->expand(cfg, NULL, all, n, &d), 0);
	json_decref(cfg);
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*all)[i].name, name))
			return &(*all)[i];
	fail_msg("no updater %s", name);
	return NULL;
}

static void free_srcs(struct updater_src *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		updater_src_release(&a[i]);
	free(a);
}

static size_t parse_with(const struct updater_set *set, const char *name, const char *file, struct counter *c,
			 const char *cfg)
{
	struct updater_src *all;
	size_t n;
	struct updater_src *u = find_src(set, cfg, name, &all, &n);
	struct vuln_sink sink = {count_add, c};
	struct diag d = {{0}};
	int rc = u->parse(u, file, &sink, &d);
	if (rc != 0)
		fail_msg("%s: %d %s", file, rc, d.msg);
	free_srcs(all, n);
	return c->vulns;
}

/* ---- memory (first, so ru_maxrss reflects this parse) ------------------------------------------ */

static void test_memory_largest(void **state)
{
	(void)state;
	NEED_SHARED();
	char *f = tl_fmt("%s/feeds/rhel/com.redhat.rhsa-RHEL8.xml", feeds());
	struct stat st;
	assert_int_equal(stat(f, &st), 0);
	/* warm up: first use of libxml2/libc code pages counts in ru_maxrss too */
	char *small = tl_fmt("%s/feeds/rhel/com.redhat.rhsa-20201980.xml", feeds());
	struct counter w = {0};
	parse_with(&updater_set_rhel, "RHEL8-rhel-8", small, &w, NULL);
	free(small);
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	struct counter c = {0};
	parse_with(&updater_set_rhel, "RHEL8-rhel-8", f, &c, NULL);
	getrusage(RUSAGE_SELF, &r1);
	long grew_kb = r1.ru_maxrss - r0.ru_maxrss;
	print_message("RHEL8 sample: %lld bytes, %zu vulns, maxrss growth %ld KiB\n", (long long)st.st_size, c.vulns,
		      grew_kb);
	assert_true(c.vulns > 1000);
	free(f);
#if defined(__SANITIZE_ADDRESS__)
	print_message("address sanitizer build: redzones and quarantine inflate RSS, bound not checked\n");
	return;
#endif
	/* below the file size (2.8 MB): the test/object/state index + one definition, never the document */
	assert_true(grew_kb * 1024 < (long)st.st_size);
}

/* ---- every sample parses; definition counts ---------------------------------------------------- */

static void test_all_samples_parse(void **state)
{
	(void)state;
	NEED_SHARED();
	static const char *const files[] = {
		"rhel/com.redhat.rhsa-RHEL8.xml", "rhel/com.redhat.rhsa-20201980.xml", "rhel/rhel-8-rpm-unpatched.xml",
		"ubuntu/com.ubuntu.xenial.cve.oval.excerpt.xml", "ubuntu/oci.com.ubuntu.jammy.cve.oval.excerpt.xml",
		"oracle/ELSA-2007-0057.xml", "oracle/elsa-oval.excerpt1.xml", "oracle/elsa-oval.excerpt2.xml",
		"suse/suse.linux.enterprise.server.12.excerpt.xml", "suse/opensuse.leap.excerpt.xml",
		"photon/com.vmware.phsa-photon3.xml",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *f = tl_fmt("%s/feeds/%s", feeds(), files[i]);
		struct counter c = {0};
		struct diag d = {{0}};
		int rc = oval_parse_file(f, count_def, &c, &d);
		if (rc != 0)
			fail_msg("%s: %d %s", files[i], rc, d.msg);
		long want = py_count(f, "defs");
		assert_int_equal((long)c.defs, want);
		assert_true(want > 0);
		free(f);
	}
}

/* ---- vulnerability counts per source against the python reading ------------------------------- */

static void check_count(const struct updater_set *set, const char *name, const char *rel, const char *mode)
{
	char *f = tl_fmt("%s/feeds/%s", feeds(), rel);
	struct counter c = {0};
	parse_with(set, name, f, &c, NULL);
	long want = py_count(f, mode);
	print_message("%s: %zu vulns (python: %ld)\n", rel, c.vulns, want);
	assert_int_equal((long)c.vulns, want);
	free(f);
}

static void test_counts(void **state)
{
	(void)state;
	NEED_SHARED();
	check_count(&updater_set_rhel, "RHEL8-rhel-8", "rhel/com.redhat.rhsa-RHEL8.xml", "rhel");
	check_count(&updater_set_rhel, "RHEL8-rhel-8", "rhel/com.redhat.rhsa-20201980.xml", "rhel");
	check_count(&updater_set_rhel, "RHEL8-rhel-8", "rhel/rhel-8-rpm-unpatched.xml", "rhel");
	check_count(&updater_set_oracle, "oracle-2015-updater", "oracle/elsa-oval.excerpt1.xml", "oracle");
	check_count(&updater_set_oracle, "oracle-2015-updater", "oracle/elsa-oval.excerpt2.xml", "oracle");
	check_count(&updater_set_oracle, "oracle-2015-updater", "oracle/ELSA-2007-0057.xml", "oracle");
	check_count(&updater_set_suse, "suse-updater-suse.linux.enterprise.server.12",
		    "suse/suse.linux.enterprise.server.12.excerpt.xml", "suse");
	check_count(&updater_set_suse, "suse-updater-opensuse.leap.15.5", "suse/opensuse.leap.excerpt.xml", "suse");
}

static const struct vuln *find_vuln(const struct vuln_list *l, const char *pkg, const char *repo)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].pkg.name, pkg) && (!repo || !strcmp(l->v[i].repo.name, repo)))
			return &l->v[i];
	return NULL;
}

static void test_rhel_record(void **state)
{
	(void)state;
	NEED_SHARED();
	char *f = tl_fmt("%s/feeds/rhel/com.redhat.rhsa-RHEL8.xml", feeds());
	struct counter c = {.want_prefix = "RHSA-2019:0966"};
	parse_with(&updater_set_rhel, "RHEL8-rhel-8", f, &c, NULL);
	/* 2 rpminfo leaves with evr (firefox, firefox-debugsource) x 2 cpes */
	assert_int_equal(c.kept.n, 4);
	const struct vuln *v = find_vuln(&c.kept, "firefox", "cpe:/a:redhat:enterprise_linux:8::appstream");
	assert_non_null(v);
	assert_string_equal(v->updater, "RHEL8-rhel-8");
	assert_string_equal(v->name, "RHSA-2019:0966: firefox security update (Critical)");
	assert_string_equal(v->fixed_in_version, "0:60.6.1-1.el8");
	assert_string_equal(v->pkg.arch, "aarch64|ppc64le|s390x|x86_64");
	assert_string_equal(v->arch_op, "pattern match");
	assert_string_equal(v->pkg.kind, "binary");
	assert_string_equal(v->pkg.module, "");
	assert_string_equal(v->repo.key, "rhel-cpe-repository");
	assert_string_equal(v->severity, "Critical");
	assert_int_equal(v->normalized_severity, SEV_CRITICAL);
	assert_string_equal(v->issued, "2019-05-07");
	assert_string_equal(v->dist.did, "rhel");
	assert_string_equal(v->dist.name, "Red Hat Enterprise Linux Server");
	assert_string_equal(v->dist.version, "8");
	assert_string_equal(v->dist.version_id, "8");
	assert_string_equal(v->dist.cpe, "cpe:2.3:o:redhat:enterprise_linux:8:*:*:*:*:*:*:*");
	assert_non_null(strstr(v->links, "https://access.redhat.com/errata/RHSA-2019:0966"));
	assert_non_null(strstr(v->links, "https://bugzilla.redhat.com/1690308"));
	assert_true(!strncmp(v->description, "Mozilla Firefox is an open-source web browser", 45));
	vuln_list_release(&c.kept);

	free(f);

	/* unpatched (cve class) records have no fixed version, unless ignore_unpatched drops them */
	f = tl_fmt("%s/feeds/rhel/rhel-8-rpm-unpatched.xml", feeds());
	struct counter u = {.want_prefix = "CVE-2021-35937"};
	parse_with(&updater_set_rhel, "RHEL8-rhel-8", f, &u, NULL);
	const struct vuln *rv = find_vuln(&u.kept, "rpm", "cpe:/o:redhat:enterprise_linux:8::baseos");
	assert_non_null(rv);
	assert_string_equal(rv->fixed_in_version, "");
	assert_string_equal(rv->severity, "Moderate");
	assert_int_equal(rv->normalized_severity, SEV_MEDIUM);
	vuln_list_release(&u.kept);
	struct updater_src *all;
	size_t n;
	struct updater_src *src = find_src(&updater_set_rhel, "{\"ignore_unpatched\":true}", "RHEL8-rhel-8", &all, &n);
	struct counter z = {0};
	struct vuln_sink sink = {count_add, &z};
	struct diag d = {{0}};
	assert_int_equal(src->parse(src, f, &sink, &d), 0);
	assert_int_equal(z.vulns, 0);
	free_srcs(all, n);
	free(f);
}

/* module-stream leaves: the RHEL8 sample has no dnf-module criteria, so a minimal document in the
 * shape of Red Hat's OVAL v2 module definitions (criterion comment "Module nodejs:12 is enabled"). */
static const char module_doc[] =
	"<oval_definitions xmlns='http://oval.mitre.org/XMLSchema/oval-definitions-5' "
	"xmlns:red-def='http://oval.mitre.org/XMLSchema/oval-definitions-5#linux'>\n"
	"<definitions><definition class='patch' id='oval:com.redhat.rhsa:def:20200001' version='1'>\n"
	"<metadata><title>RHSA-2020:0001: nodejs:12 security update (Important)</title>\n"
	"<advisory><severity>Important</severity><issued date='2020-01-02'/>\n"
	"<affected_cpe_list><cpe>cpe:/a:redhat:enterprise_linux:8::appstream</cpe></affected_cpe_list></advisory></metadata>\n"
	"<criteria operator='OR'><criterion comment='Red Hat Enterprise Linux must be installed' test_ref='t:9'/>\n"
	"<criteria operator='AND'><criterion comment='Module nodejs:12 is enabled' test_ref='t:3'/>\n"
	"<criteria operator='AND' negate='true'><criterion comment='nodejs is earlier than 1:12.14.1-1.module+el8.1.0+5466+30f75629' test_ref='t:1'/>\n"
	"<criterion comment='nodejs is signed with Red Hat redhatrelease2 key' test_ref='t:2'/></criteria></criteria></criteria>\n"
	"</definition></definitions>\n"
	"<tests><red-def:rpminfo_test check='at least one' id='t:1' version='1'><red-def:object object_ref='o:1'/><red-def:state state_ref='s:1'/></red-def:rpminfo_test>\n"
	"<red-def:rpminfo_test check='at least one' id='t:2' version='1'><red-def:object object_ref='o:1'/><red-def:state state_ref='s:2'/></red-def:rpminfo_test>\n"
	"<ind-def:textfilecontent54_test xmlns:ind-def='http://oval.mitre.org/XMLSchema/oval-definitions-5#independent' check='at least one' id='t:3' version='1'><ind-def:object object_ref='o:3'/></ind-def:textfilecontent54_test></tests>\n"
	"<objects><red-def:rpminfo_object id='o:1' version='1'><red-def:name>nodejs</red-def:name></red-def:rpminfo_object></objects>\n"
	"<states><red-def:rpminfo_state id='s:1' version='1'><red-def:arch operation='equals'>x86_64</red-def:arch>"
	"<red-def:evr datatype='evr_string' operation='less than'>1:12.14.1-1.module+el8.1.0+5466+30f75629</red-def:evr></red-def:rpminfo_state>\n"
	"<red-def:rpminfo_state id='s:2' version='1'><red-def:signature_keyid operation='equals'>199e2f91fd431d51</red-def:signature_keyid></red-def:rpminfo_state></states>\n"
	"</oval_definitions>\n";

static int leaf_collect(void *ctx, const struct oval_leaf *lf)
{
	struct vuln_list *l = ctx;
	struct vuln v = {0};
	v.pkg.name = (char *)lf->name;
	v.pkg.module = (char *)lf->module;
	v.fixed_in_version = (char *)(lf->evr ? lf->evr : "");
	v.arch_op = (char *)lf->arch_op;
	v.pkg.arch = (char *)lf->arch;
	v.name = (char *)(lf->negated ? "negated" : "plain");
	return vuln_list_add(l, &v);
}

static int leaf_def(void *ctx, const struct oval_doc *doc, const struct oval_def *def)
{
	return oval_def_leaves(doc, def, OVAL_PKG_RPM, leaf_collect, ctx);
}

static void test_rhel_modules(void **state)
{
	(void)state;
	char *dir = tl_mkdtemp();
	char *f = tl_write_file(dir, "module.xml", module_doc);
	struct vuln_list l = {0};
	struct diag d = {{0}};
	assert_int_equal(oval_parse_file(f, leaf_def, &l, &d), 0);
	assert_int_equal(l.n, 1); /* the signature leaf has no evr: skipped */
	assert_string_equal(l.v[0].pkg.name, "nodejs");
	assert_string_equal(l.v[0].pkg.module, "nodejs:12");
	assert_string_equal(l.v[0].fixed_in_version, "1:12.14.1-1.module+el8.1.0+5466+30f75629");
	assert_string_equal(l.v[0].arch_op, "equals");
	assert_string_equal(l.v[0].pkg.arch, "x86_64");
	assert_string_equal(l.v[0].name, "negated");
	vuln_list_release(&l);
	struct counter c = {.want_prefix = ""};
	parse_with(&updater_set_rhel, "RHEL8-rhel-8", f, &c, NULL);
	assert_int_equal(c.kept.n, 1);
	assert_string_equal(c.kept.v[0].pkg.module, "nodejs:12");
	assert_string_equal(c.kept.v[0].repo.name, "cpe:/a:redhat:enterprise_linux:8::appstream");
	assert_int_equal(c.kept.v[0].normalized_severity, SEV_HIGH);
	vuln_list_release(&c.kept);
	free(f);
	free(dir);
}

/* ---- OpenSCAP's verdicts for a RHEL 8 image: evaluate the criteria trees ------------------------ */

struct pkg {
	const char *name, *evr, *arch, *keyid, *version;
};

struct evalctx {
	struct pkg *p;
	size_t n;
	json_t *j;
	FILE *out;
	size_t ntrue;
};

static int field_match(const struct oval_field *f, const char *val)
{
	if (!strcmp(f->operation, "pattern match")) {
		regex_t re;
		if (regcomp(&re, f->text, REG_EXTENDED | REG_NOSUB) != 0) {
			/* \d is not POSIX: rewrite the one form the sample uses */
			char buf[256];
			size_t k = 0;
			for (const char *s = f->text; *s && k + 8 < sizeof(buf); s++) {
				if (s[0] == '\\' && s[1] == 'd') {
					memcpy(buf + k, "0-9", 3), k += 3, s++;
				} else
					buf[k++] = *s;
			}
			buf[k] = 0;
			assert_int_equal(regcomp(&re, buf, REG_EXTENDED | REG_NOSUB), 0);
		}
		int m = regexec(&re, val, 0, NULL, 0) == 0;
		regfree(&re);
		return m;
	}
	if (!strcmp(f->name, "evr")) {
		int c = version_rpm_evrcmp(val, f->text);
		if (!strcmp(f->operation, "less than"))
			return c < 0;
		if (!strcmp(f->operation, "greater than"))
			return c > 0;
		if (!strcmp(f->operation, "less than or equal"))
			return c <= 0;
		if (!strcmp(f->operation, "greater than or equal"))
			return c >= 0;
		return c == 0;
	}
	return strcmp(val, f->text) == 0;
}

static int item_ok(const struct oval_item *st, const struct pkg *p, int verifyfile)
{
	if (!st)
		return 1;
	for (size_t i = 0; i < st->nfields; i++) {
		const struct oval_field *f = &st->fields[i];
		const char *val = !strcmp(f->name, "evr")		? p->evr
				  : !strcmp(f->name, "arch")		? p->arch
				  : !strcmp(f->name, "signature_keyid") ? p->keyid
				  : !strcmp(f->name, "name")		? p->name
				  : !strcmp(f->name, "version")		? p->version
									: NULL;
		(void)verifyfile;
		if (!val)
			continue;
		if (!field_match(f, val))
			return 0;
	}
	return 1;
}

static int eval_test(const struct evalctx *e, const struct oval_doc *doc, const char *ref)
{
	const struct oval_item *t = oval_doc_find(doc, ref);
	assert_non_null(t);
	const struct oval_item *st = t->state_ref[0] ? oval_doc_find(doc, t->state_ref) : NULL;
	const struct oval_item *ob = oval_doc_find(doc, t->object_ref);
	int verify = !strcmp(t->kind, "rpmverifyfile_test");
	if (strcmp(t->kind, "rpminfo_test") && !verify)
		return 0; /* uname / textfilecontent54: the syschar marks the objects "does not exist" */
	size_t items = 0, sat = 0;
	for (size_t i = 0; i < e->n; i++) {
		if (verify) {
			if (strcmp(e->p[i].name, "redhat-release") != 0)
				continue; /* /etc/redhat-release is owned by redhat-release */
		} else {
			const struct oval_field *nf = oval_item_field(ob, "name");
			if (!nf || strcmp(nf->text, e->p[i].name) != 0)
				continue;
		}
		items++;
		sat += (size_t)item_ok(st, &e->p[i], verify);
	}
	if (!items)
		return 0;
	if (!strcmp(t->check, "none satisfy"))
		return sat == 0;
	if (!strcmp(t->check, "all"))
		return sat == items;
	return sat > 0;
}

static int eval_node(const struct evalctx *e, const struct oval_doc *doc, const struct oval_node *n)
{
	int r;
	if (n->kind == OVAL_NODE_CRITERION) {
		r = eval_test(e, doc, n->ref);
	} else if (n->kind == OVAL_NODE_EXTEND) {
		r = 0;
	} else {
		int cnt = 0, tot = 0;
		for (const struct oval_node *c = n->child; c; c = c->next, tot++)
			cnt += eval_node(e, doc, c);
		r = n->op == OVAL_OP_OR ? cnt > 0 : n->op == OVAL_OP_ONE ? cnt == 1 : n->op == OVAL_OP_XOR ? cnt % 2 : cnt == tot;
	}
	return n->negate ? !r : r;
}

static int eval_def(void *ctx, const struct oval_doc *doc, const struct oval_def *def)
{
	struct evalctx *e = ctx;
	int r = def->criteria ? eval_node(e, doc, def->criteria) : 0;
	e->ntrue += (size_t)r;
	fprintf(e->out, "%s\t%s\n", def->id, r ? "true" : "false");
	return 0;
}

static void test_rhel_definitions_tsv(void **state)
{
	(void)state;
	NEED_SHARED();
	char *pj = tl_fmt("%s/expected/rhel/inputs/ubi8-2019-05-amd64.pkgs.json", feeds());
	json_error_t je;
	json_t *j = json_load_file(pj, 0, &je);
	assert_non_null(j);
	struct evalctx e = {0};
	e.n = json_array_size(j);
	e.p = calloc(e.n, sizeof(*e.p));
	char **evrs = calloc(e.n, sizeof(char *));
	for (size_t i = 0; i < e.n; i++) {
		json_t *o = json_array_get(j, i);
		const char *ep = json_string_value(json_object_get(o, "epoch"));
		const char *ve = json_string_value(json_object_get(o, "version"));
		const char *re = json_string_value(json_object_get(o, "release"));
		evrs[i] = tl_fmt("%s:%s-%s", ep && ep[0] ? ep : "0", ve, re);
		e.p[i] = (struct pkg){json_string_value(json_object_get(o, "name")), evrs[i],
				      json_string_value(json_object_get(o, "arch")),
				      json_string_value(json_object_get(o, "keyid")), ve};
	}
	char *dir = tl_mkdtemp();
	char *got = tl_fmt("%s/got.tsv", dir);
	e.out = fopen(got, "w");
	assert_non_null(e.out);
	char *f = tl_fmt("%s/feeds/rhel/com.redhat.rhsa-RHEL8.xml", feeds());
	struct diag d = {{0}};
	assert_int_equal(oval_parse_file(f, eval_def, &e, &d), 0);
	fclose(e.out);
	char *want = tl_fmt("%s/expected/rhel/shared-rhel8-oval-2019-11__ubi8-2019-05-amd64.definitions.tsv", feeds());
	char *cmd = tl_fmt("sort '%s' | diff - '%s' >&2", got, want);
	int rc = system(cmd);
	print_message("definitions true: %zu\n", e.ntrue);
	assert_int_equal(rc, 0);
	assert_int_equal(e.ntrue, 16);
	for (size_t i = 0; i < e.n; i++)
		free(evrs[i]);
	free(evrs);
	free(e.p);
	json_decref(j);
	free(cmd);
	free(want);
	free(f);
	free(got);
	free(dir);
	free(pj);
}

/* ---- Ubuntu, Oracle, SUSE, Debian records ----------------------------------------------------- */

static void test_ubuntu(void **state)
{
	(void)state;
	NEED_SHARED();
	char *f = tl_fmt("%s/feeds/ubuntu/com.ubuntu.xenial.cve.oval.excerpt.xml", feeds());
	struct counter c = {.want_prefix = ""};
	parse_with(&updater_set_ubuntu, "ubuntu/updater/xenial", f, &c, "{\"releases\":[\"xenial\"]}");
	free(f);
	json_t *cfg = NULL;
	(void)cfg;
	assert_int_equal(c.kept.n, 2);
	const struct vuln *a = find_vuln(&c.kept, "cabextract", NULL);
	const struct vuln *b = find_vuln(&c.kept, "libmspack0", NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a->fixed_in_version, "");
	assert_string_equal(b->fixed_in_version, "0.4-3");
	assert_string_equal(b->name, "CVE-2015-4471 on Ubuntu 16.04 LTS (xenial) - medium.");
	assert_string_equal(b->severity, "");
	assert_int_equal(b->normalized_severity, SEV_MEDIUM);
	assert_string_equal(b->pkg.kind, "binary");
	assert_string_equal(b->dist.did, "ubuntu");
	assert_string_equal(b->dist.name, "Ubuntu");
	assert_string_equal(b->dist.version_id, "16.04");
	assert_string_equal(b->dist.version_code_name, "xenial");
	assert_string_equal(b->dist.pretty_name, "Ubuntu 16.04");
	assert_string_equal(b->updater, "ubuntu/updater/xenial");
	assert_string_equal(b->links, "https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2015-4471 "
				      "http://people.canonical.com/~ubuntu-security/cve/2015/CVE-2015-4471.html "
				      "http://www.openwall.com/lists/oss-security/2015/02/03/11 "
				      "https://github.com/kyz/libmspack/commit/18b6a2cc0b87536015bedd4f7763e6b02d5aa4f3 "
				      "https://bugs.debian.org/775499 "
				      "http://openwall.com/lists/oss-security/2015/02/03/11 "
				      "http://bugs.debian.org/cgi-bin/bugreport.cgi?bug=775499");
	vuln_list_release(&c.kept);
	/* the OCI flavour tests a manifest file (textfilecontent54), so no dpkg records */
	f = tl_fmt("%s/feeds/ubuntu/oci.com.ubuntu.jammy.cve.oval.excerpt.xml", feeds());
	struct counter o = {0};
	parse_with(&updater_set_ubuntu, "ubuntu/updater/jammy", f, &o, NULL);
	assert_int_equal(o.vulns, 0);
	free(f);
}

static void test_oracle(void **state)
{
	(void)state;
	NEED_SHARED();
	char *f = tl_fmt("%s/feeds/oracle/elsa-oval.excerpt1.xml", feeds());
	struct counter c = {.want_prefix = "ELSA-2015-1193"};
	parse_with(&updater_set_oracle, "oracle-2015-updater", f, &c, NULL);
	free(f);
	assert_int_equal(c.kept.n, 3);
	const struct vuln *v = find_vuln(&c.kept, "xerces-c", NULL);
	assert_non_null(v);
	assert_string_equal(v->name, "ELSA-2015-1193:  xerces-c security update (MODERATE)");
	assert_string_equal(v->fixed_in_version, "0:3.1.1-7.el7_1");
	assert_string_equal(v->severity, "MODERATE");
	assert_int_equal(v->normalized_severity, SEV_MEDIUM);
	assert_string_equal(v->issued, "2015-06-29");
	assert_string_equal(v->dist.did, "ol");
	assert_string_equal(v->dist.name, "Oracle Linux Server");
	assert_string_equal(v->dist.version, "7");
	assert_string_equal(v->dist.version_id, "7");
	assert_string_equal(v->dist.version_code_name, "Oracle Linux 7");
	assert_string_equal(v->dist.pretty_name, "Oracle Linux Server 7");
	assert_string_equal(v->links, "http://linux.oracle.com/errata/ELSA-2015-1193.html "
				      "http://linux.oracle.com/cve/CVE-2015-0252.html");
	vuln_list_release(&c.kept);
}

static void test_suse(void **state)
{
	(void)state;
	NEED_SHARED();
	char *f = tl_fmt("%s/feeds/suse/suse.linux.enterprise.server.12.excerpt.xml", feeds());
	struct counter c = {.want_prefix = ""};
	parse_with(&updater_set_suse, "suse-updater-suse.linux.enterprise.server.12", f, &c, NULL);
	free(f);
	assert_true(c.kept.n >= 1);
	const struct vuln *v = find_vuln(&c.kept, "xfsprogs", NULL);
	assert_non_null(v);
	assert_string_equal(v->name, "CVE-2012-2150");
	assert_string_equal(v->fixed_in_version, "0:3.2.1-3.5");
	assert_string_equal(v->issued, "");
	assert_string_equal(v->dist.did, "sles");
	assert_string_equal(v->dist.name, "SLES");
	assert_string_equal(v->dist.version, "12");
	assert_string_equal(v->dist.pretty_name, "SUSE Linux Enterprise Server 12");
	vuln_list_release(&c.kept);
}

static void test_debian_sample(void **state)
{
	(void)state;
	const char *src = tl_env("SRC_DIR");
	char *f = tl_fmt("%s/scanner/updaters/oval/testdata/debian-oval-sample.xml", src ? src : ".");
	struct counter c = {.want_prefix = ""};
	parse_with(&updater_set_debian_oval, "debian/updater/bookworm", f, &c, NULL);
	free(f);
	/* zlib's state evr "1:1.2.13 bad" fails claircore's validVersion: skipped */
	assert_int_equal(c.kept.n, 1);
	const struct vuln *v = &c.kept.v[0];
	assert_string_equal(v->pkg.name, "openssl");
	assert_string_equal(v->pkg.kind, "source");
	assert_string_equal(v->fixed_in_version, "3.0.8-1");
	assert_string_equal(v->name, "CVE-2023-0001");
	assert_string_equal(v->issued, "2023-01-10");
	assert_string_equal(v->dist.did, "debian");
	assert_string_equal(v->dist.version_id, "12");
	assert_string_equal(v->dist.version_code_name, "bookworm");
	assert_string_equal(v->dist.version, "12 (bookworm)");
	assert_int_equal(v->normalized_severity, SEV_UNKNOWN);
	vuln_list_release(&c.kept);
}

/* ---- broken input ---------------------------------------------------------------------------- */

static void expect_bad(const char *path, const char *needle)
{
	struct counter c = {0};
	struct diag d = {{0}};
	int rc = oval_parse_file(path, count_def, &c, &d);
	print_message("%s\n", d.msg);
	assert_int_equal(rc, -EBADMSG);
	assert_int_equal(c.defs, 0); /* nothing handed out before the error */
	assert_non_null(strstr(d.msg, "line "));
	if (needle)
		assert_non_null(strstr(d.msg, needle));
}

static void test_broken(void **state)
{
	(void)state;
	char *dir = tl_mkdtemp();
	if (feeds()) {
		/* the RHEL sample cut in the middle of <states> */
		char *f = tl_fmt("%s/feeds/rhel/com.redhat.rhsa-RHEL8.xml", feeds());
		char *t = tl_fmt("%s/trunc.xml", dir);
		char *cmd = tl_fmt("head -c 2500000 '%s' > '%s'", f, t);
		assert_int_equal(system(cmd), 0);
		expect_bad(t, NULL);
		free(cmd);
		free(t);
		free(f);
	}
	char *p = tl_write_file(dir, "root.xml", "<?xml version=\"1.0\"?>\n<html><definitions/></html>\n");
	expect_bad(p, "oval_definitions");
	free(p);
	p = tl_write_file(dir, "garbage.xml", "<oval_definitions><definitions><definition id='x'></definitions>");
	expect_bad(p, NULL);
	free(p);
	p = tl_write_file(dir, "empty.xml", "");
	expect_bad(p, NULL);
	free(p);
	/* an attribute of 100 KiB */
	size_t big = 100 * 1024;
	char *doc = malloc(big + 200);
	int k = snprintf(doc, 200, "<oval_definitions>\n<definitions>\n<definition id=\"");
	memset(doc + k, 'a', big);
	snprintf(doc + k + big, 200, "\"/>\n</definitions></oval_definitions>\n");
	p = tl_write_file(dir, "bigattr.xml", doc);
	expect_bad(p, "size cap");
	free(p);
	/* nesting deeper than the cap */
	struct buf b = BUF_INIT;
	buf_puts(&b, "<oval_definitions><definitions><definition id=\"a\"><criteria>");
	for (int i = 0; i < 100; i++)
		buf_puts(&b, "<criteria>");
	for (int i = 0; i < 100; i++)
		buf_puts(&b, "</criteria>");
	buf_puts(&b, "</criteria></definition></definitions></oval_definitions>");
	p = tl_write_file(dir, "deep.xml", b.data);
	expect_bad(p, "deep");
	free(p);
	buf_release(&b);
	free(doc);
	struct diag d = {{0}};
	struct counter c = {0};
	assert_true(oval_parse_file("/nonexistent/x.xml", count_def, &c, &d) < 0);
	free(dir);
}

/* ---- severity tables, expand, helpers ---------------------------------------------------------- */

static void test_severity(void **state)
{
	(void)state;
	assert_int_equal(oval_severity(OVAL_VENDOR_RHEL, "Important"), SEV_HIGH);
	assert_int_equal(oval_severity(OVAL_VENDOR_RHEL, "moderate"), SEV_MEDIUM);
	assert_int_equal(oval_severity(OVAL_VENDOR_RHEL, "CRITICAL"), SEV_CRITICAL);
	assert_int_equal(oval_severity(OVAL_VENDOR_RHEL, "low"), SEV_LOW);
	assert_int_equal(oval_severity(OVAL_VENDOR_RHEL, "None"), SEV_UNKNOWN);
	assert_int_equal(oval_severity(OVAL_VENDOR_ORACLE, "IMPORTANT"), SEV_HIGH);
	assert_int_equal(oval_severity(OVAL_VENDOR_ORACLE, "Important"), SEV_UNKNOWN); /* exact */
	assert_int_equal(oval_severity(OVAL_VENDOR_ORACLE, "N/A"), SEV_UNKNOWN);
	assert_int_equal(oval_severity(OVAL_VENDOR_ORACLE, "LOW"), SEV_LOW);
	assert_int_equal(oval_severity(OVAL_VENDOR_SUSE, "Moderate"), SEV_MEDIUM);
	assert_int_equal(oval_severity(OVAL_VENDOR_SUSE, "Critical"), SEV_CRITICAL);
	assert_int_equal(oval_severity(OVAL_VENDOR_SUSE, "None"), SEV_UNKNOWN);
	assert_int_equal(oval_severity(OVAL_VENDOR_SUSE, "moderate"), SEV_UNKNOWN);
	assert_int_equal(oval_severity(OVAL_VENDOR_UBUNTU, "Negligible"), SEV_NEGLIGIBLE);
	assert_int_equal(oval_severity(OVAL_VENDOR_UBUNTU, "Medium"), SEV_MEDIUM);
	assert_int_equal(oval_severity(OVAL_VENDOR_UBUNTU, "Untriaged"), SEV_UNKNOWN);
	assert_int_equal(oval_severity(OVAL_VENDOR_UBUNTU, "High"), SEV_HIGH);
	assert_int_equal(oval_severity(OVAL_VENDOR_DEBIAN, "High"), SEV_UNKNOWN);
	assert_int_equal(oval_severity(OVAL_VENDOR_RHEL, NULL), SEV_UNKNOWN);
}

static void test_expand(void **state)
{
	(void)state;
	struct updater_src *all;
	size_t n;
	struct updater_src *u = find_src(&updater_set_rhel, NULL, "RHEL9-rhel-9", &all, &n);
	assert_int_equal(n, 4);
	assert_string_equal(u->url, "https://security.access.redhat.com/data/oval/v2/RHEL9/rhel-9.oval.xml.bz2");
	free_srcs(all, n);
	u = find_src(&updater_set_rhel, "{\"releases\":[8],\"urls\":{\"RHEL8-rhel-8\":\"http://127.0.0.1/x.xml\"}}",
		     "RHEL8-rhel-8", &all, &n);
	assert_int_equal(n, 1);
	assert_string_equal(u->url, "http://127.0.0.1/x.xml");
	free_srcs(all, n);
	u = find_src(&updater_set_oracle, "{\"years\":[2023,\"2024\"]}", "oracle-2024-updater", &all, &n);
	assert_int_equal(n, 2);
	assert_string_equal(u->url, "https://linux.oracle.com/security/oval/com.oracle.elsa-2024.xml.bz2");
	free_srcs(all, n);
	u = find_src(&updater_set_oracle, NULL, "oracle-2007-updater", &all, &n);
	assert_true(n >= 19);
	free_srcs(all, n);
	u = find_src(&updater_set_suse, NULL, "suse-updater-suse.linux.enterprise.server.15", &all, &n);
	assert_string_equal(u->url, "https://ftp.suse.com/pub/projects/security/oval/suse.linux.enterprise.server.15.xml.gz");
	free_srcs(all, n);
	u = find_src(&updater_set_ubuntu, "{\"url\":\"http://mirror/oval\"}", "ubuntu/updater/jammy", &all, &n);
	assert_string_equal(u->url, "http://mirror/oval/com.ubuntu.jammy.cve.oval.xml.bz2");
	free_srcs(all, n);
	u = find_src(&updater_set_debian_oval, NULL, "debian/updater/bookworm", &all, &n);
	assert_string_equal(u->url, "https://www.debian.org/security/oval/oval-definitions-bookworm.xml");
	free_srcs(all, n);
	/* bad config */
	static const struct {
		const struct updater_set *s;
		const char *cfg;
	} bad[] = {
		{&updater_set_rhel, "{\"releases\":\"8\"}"},	 {&updater_set_rhel, "{\"releases\":[\"eight\"]}"},
		{&updater_set_ubuntu, "{\"releases\":[\"nope\"]}"}, {&updater_set_suse, "{\"products\":[\"windows\"]}"},
		{&updater_set_oracle, "{\"years\":[{}]}"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *cfg = json_loads(bad[i].cfg, 0, NULL);
		struct diag d = {{0}};
		all = NULL;
		n = 0;
		assert_int_equal(bad[i].s->expand(cfg, NULL, &all, &n, &d), -EINVAL);
		assert_true(d.msg[0] != 0);
		free_srcs(all, n);
		json_decref(cfg);
	}
}

static void test_def_type(void **state)
{
	(void)state;
	char t[32];
	oval_def_type("oval:com.redhat.rhsa:def:20190966", t, sizeof(t));
	assert_string_equal(t, "rhsa");
	oval_def_type("oval:com.redhat.unaffected:def:1", t, sizeof(t));
	assert_string_equal(t, "unaffected");
	oval_def_type("garbage", t, sizeof(t));
	assert_string_equal(t, "");
	assert_string_equal(oval_arch_op("pattern match"), "pattern match");
	assert_string_equal(oval_arch_op("case insensitive equals"), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_largest), cmocka_unit_test(test_all_samples_parse),
		cmocka_unit_test(test_counts),	       cmocka_unit_test(test_rhel_record),
		cmocka_unit_test(test_rhel_modules),   cmocka_unit_test(test_rhel_definitions_tsv),
		cmocka_unit_test(test_ubuntu),	       cmocka_unit_test(test_oracle),
		cmocka_unit_test(test_suse),	       cmocka_unit_test(test_debian_sample),
		cmocka_unit_test(test_broken),	       cmocka_unit_test(test_severity),
		cmocka_unit_test(test_expand),	       cmocka_unit_test(test_def_type),
	};
	return cmocka_run_group_tests_name("oval", tests, NULL, NULL);
}

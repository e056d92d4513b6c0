/* src_aws: Amazon Linux ALAS updateinfo.xml (claircore-spec §5.2).
 *
 * Config block updaters.config.aws (all optional):
 *   releases  list of "AL1", "AL2", "AL2023" (default all three)
 *   urls      object release -> updateinfo URL (updateinfo.xml or .xml.gz), e.g.
 *             {"AL2": "https://mirror.example/2/core/2.0/x86_64/abc/repodata/updateinfo.xml.gz"}:
 *             used as is, no discovery
 *   mirrors   object release -> mirror.list URL (defaults: claircore's, see below); with an
 *             http client the first mirror of the list is taken, its repodata/repomd.xml read
 *             for the updateinfo location (fallback repodata/updateinfo.xml.gz)
 *   Offline (no http client) a release without a "urls" entry is skipped with a warning.
 * Default mirror lists:
 *   AL1    http://repo.us-west-2.amazonaws.com/2018.03/updates/x86_64/mirror.list
 *   AL2    https://cdn.amazonlinux.com/2/core/latest/x86_64/mirror.list
 *   AL2023 https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list
 * Updater names: aws-AL1-updater, aws-AL2-updater, aws-AL2023-updater.
 *
 * One vuln per <update> x <package>: name = ALAS id, description, issued (RFC 3339 from
 * issued@date "YYYY-MM-DD HH:MM[:SS]"), links = reference hrefs joined by " ", severity as
 * written, normalized exactly (low Low, medium Medium, important High, critical Critical,
 * anything else - including AL2023's capitalised "Important" - Unknown, as claircore),
 * package {name, kind "binary", arch}, arch_op "equals", fixed_in_version [epoch:]version-release
 * (epoch 0 omitted), dist as the aws distribution scanner emits it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlreader.h>

#include "common/log.h"
#include "scanner/updaters/feed_sets.h"
#include "scanner/updaters/feed_util.h"

struct aws_rel {
	const char *key, *mirror;
	const char *name, *version, *cpe, *pretty;
};

static const struct aws_rel aws_rels[] = {
	{"AL1", "http://repo.us-west-2.amazonaws.com/2018.03/updates/x86_64/mirror.list", "Amazon Linux AMI", "2018.03",
	 "cpe:/o:amazon:linux:2018.03:ga", "Amazon Linux AMI 2018.03"},
	{"AL2", "https://cdn.amazonlinux.com/2/core/latest/x86_64/mirror.list", "Amazon Linux", "2",
	 "cpe:2.3:o:amazon:amazon_linux:2", "Amazon Linux 2"},
	{"AL2023", "https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list", "Amazon Linux", "2023",
	 "cpe:2.3:o:amazon:amazon_linux:2023", "Amazon Linux 2023"},
};

#define AWS_MAX_PKGS 100000

struct aws_pkg {
	char *name, *evr, *arch;
};

struct aws_update {
	char *id, *severity, *description, *issued;
	struct buf links;
	struct aws_pkg *pkgs;
	size_t n, cap;
};

static void aws_update_reset(struct aws_update *a)
{
	free(a->id), free(a->severity), free(a->description), free(a->issued);
	a->id = a->severity = a->description = a->issued = NULL;
	buf_reset(&a->links);
	for (size_t i = 0; i < a->n; i++)
		free(a->pkgs[i].name), free(a->pkgs[i].evr), free(a->pkgs[i].arch);
	a->n = 0;
}

struct aws_io {
	struct feed_reader r;
	struct diag rd;
	int err;
};

static int aws_read_cb(void *ctx, char *buf, int len)
{
	struct aws_io *io = ctx;
	ssize_t n = feed_reader_read(&io->r, buf, (size_t)len, &io->rd);
	if (n < 0) {
		io->err = (int)n;
		return -1;
	}
	return (int)n;
}

static int aws_close_cb(void *ctx)
{
	(void)ctx;
	return 0;
}

struct aws_xml_err {
	char msg[300];
	int line;
	int set;
};

static void aws_err_cb(void *arg, const char *msg, xmlParserSeverities sev, xmlTextReaderLocatorPtr loc)
{
	struct aws_xml_err *e = arg;
	if (e->set || (sev != XML_PARSER_SEVERITY_ERROR && sev != XML_PARSER_SEVERITY_VALIDITY_ERROR))
		return;
	e->set = 1;
	e->line = xmlTextReaderLocatorLineNumber(loc);
	snprintf(e->msg, sizeof(e->msg), "%s", msg ? msg : "XML error");
	size_t l = strlen(e->msg);
	while (l && (e->msg[l - 1] == '\n' || e->msg[l - 1] == ' '))
		e->msg[--l] = 0;
}

static char *aws_attr(xmlTextReaderPtr x, const char *name)
{
	xmlChar *v = xmlTextReaderGetAttribute(x, (const xmlChar *)name);
	char *s = feed_strdup((const char *)v);
	xmlFree(v);
	return s;
}

/* "2018-01-11 21:05" / "2018-01-11 21:05:00" -> "2018-01-11T21:05:00Z"; else "". */
static char *aws_issued(const char *s)
{
	int y, mo, da, h, mi, se = 0, n = 0;
	char out[32];
	if (!s || (sscanf(s, "%4d-%2d-%2d %2d:%2d%n", &y, &mo, &da, &h, &mi, &n) != 5))
		return strdup("");
	if (s[n] == ':' && sscanf(s + n + 1, "%2d", &se) != 1)
		return strdup("");
	snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, da, h, mi, se);
	return strdup(out);
}

static const struct aws_rel *aws_rel_get(const char *key)
{
	for (size_t i = 0; i < sizeof(aws_rels) / sizeof(aws_rels[0]); i++)
		if (!strcmp(aws_rels[i].key, key))
			return &aws_rels[i];
	return NULL;
}

static int aws_emit(const struct updater_src *u, const struct aws_rel *rel, struct aws_update *a,
		    struct vuln_sink *sink, const char *path, struct diag *d)
{
	char cpe[160] = "";
	if (rel) {
		/* the distribution scanner's form: CPE bound to a 2.3 formatted string */
		if (!strncmp(rel->cpe, "cpe:/o:amazon:linux:2018.03:ga", 30))
			snprintf(cpe, sizeof(cpe), "cpe:2.3:o:amazon:linux:2018.03:ga:*:*:*:*:*:*");
		else
			snprintf(cpe, sizeof(cpe), "%s:*:*:*:*:*:*:*", rel->cpe);
	}
	for (size_t i = 0; i < a->n; i++) {
		struct vuln v = {0};
		v.updater = u && u->name ? u->name : "";
		v.name = a->id;
		v.description = a->description ? a->description : "";
		v.issued = a->issued ? a->issued : "";
		v.links = a->links.data ? a->links.data : "";
		v.severity = a->severity ? a->severity : "";
		v.normalized_severity = feed_sev_aws(v.severity);
		v.pkg.name = a->pkgs[i].name;
		v.pkg.kind = "binary";
		v.pkg.arch = a->pkgs[i].arch;
		v.arch_op = "equals";
		v.fixed_in_version = a->pkgs[i].evr;
		if (rel) {
			v.dist.did = "amzn";
			v.dist.name = (char *)rel->name;
			v.dist.version = (char *)rel->version;
			v.dist.version_id = (char *)rel->version;
			v.dist.cpe = cpe;
			v.dist.pretty_name = (char *)rel->pretty;
		}
		int rc = sink->add(sink->ctx, &v);
		if (rc < 0)
			return diag_fail(d, rc, "%s: sink refused a vulnerability", path);
	}
	return 0;
}

static int aws_parse(const struct updater_src *u, const char *path, struct vuln_sink *sink, struct diag *d)
{
	const struct aws_rel *rel = u ? u->priv : NULL;
	struct aws_io *io = calloc(1, sizeof(*io));
	struct aws_xml_err xe = {{0}, 0, 0};
	struct aws_update a = {0};
	xmlTextReaderPtr x = NULL;
	int rc, in_update = 0, seen_root = 0;
	if (!io)
		return diag_fail(d, -ENOMEM, "out of memory");
	rc = feed_reader_open(&io->r, path, d);
	if (rc < 0) {
		free(io);
		return rc;
	}
	x = xmlReaderForIO(aws_read_cb, aws_close_cb, io, path, NULL, XML_PARSE_NONET | XML_PARSE_NOCDATA);
	if (!x) {
		rc = diag_fail(d, -ENOMEM, "%s: cannot create an XML reader", path);
		goto out;
	}
	xmlTextReaderSetErrorHandler(x, aws_err_cb, &xe);
	int r;
	while ((r = xmlTextReaderRead(x)) == 1) {
		int type = xmlTextReaderNodeType(x);
		const char *nm = (const char *)xmlTextReaderConstLocalName(x);
		if (!nm)
			continue;
		if (type == XML_READER_TYPE_ELEMENT && xmlTextReaderDepth(x) == 0) {
			if (strcmp(nm, "updates")) {
				rc = diag_fail(d, -EBADMSG, "%s: line %d: root element <%s>, want <updates>", path,
					       xmlTextReaderGetParserLineNumber(x), nm);
				goto out;
			}
			seen_root = 1;
			continue;
		}
		if (type == XML_READER_TYPE_ELEMENT && !strcmp(nm, "update") && xmlTextReaderDepth(x) == 1) {
			aws_update_reset(&a);
			in_update = 1;
			if (xmlTextReaderIsEmptyElement(x))
				in_update = 0;
			continue;
		}
		if (type == XML_READER_TYPE_END_ELEMENT && !strcmp(nm, "update") && xmlTextReaderDepth(x) == 1) {
			in_update = 0;
			if (!a.id || !*a.id) {
				rc = diag_fail(d, -EBADMSG, "%s: line %d: <update> without <id>", path,
					       xmlTextReaderGetParserLineNumber(x));
				goto out;
			}
			if ((rc = aws_emit(u, rel, &a, sink, path, d)) < 0)
				goto out;
			continue;
		}
		if (!in_update || type != XML_READER_TYPE_ELEMENT)
			continue;
		char **slot = NULL;
		if (!strcmp(nm, "id") && xmlTextReaderDepth(x) == 2)
			slot = &a.id;
		else if (!strcmp(nm, "severity") && xmlTextReaderDepth(x) == 2)
			slot = &a.severity;
		else if (!strcmp(nm, "description") && xmlTextReaderDepth(x) == 2)
			slot = &a.description;
		if (slot) {
			xmlChar *t = xmlTextReaderReadString(x);
			free(*slot);
			*slot = feed_strdup((const char *)t);
			xmlFree(t);
			if (!*slot) {
				rc = diag_fail(d, -ENOMEM, "out of memory");
				goto out;
			}
		} else if (!strcmp(nm, "issued") && xmlTextReaderDepth(x) == 2) {
			char *dt = aws_attr(x, "date");
			free(a.issued);
			a.issued = dt ? aws_issued(dt) : NULL;
			free(dt);
			if (!a.issued) {
				rc = diag_fail(d, -ENOMEM, "out of memory");
				goto out;
			}
		} else if (!strcmp(nm, "reference")) {
			xmlChar *h = xmlTextReaderGetAttribute(x, (const xmlChar *)"href");
			if (h && *h && ((a.links.len && buf_putc(&a.links, ' ') < 0) || buf_puts(&a.links, (const char *)h) < 0)) {
				xmlFree(h);
				rc = diag_fail(d, -ENOMEM, "out of memory");
				goto out;
			}
			xmlFree(h);
		} else if (!strcmp(nm, "package")) {
			if (a.n >= AWS_MAX_PKGS) {
				rc = diag_fail(d, -EFBIG, "%s: line %d: more than %d packages in one update", path,
					       xmlTextReaderGetParserLineNumber(x), AWS_MAX_PKGS);
				goto out;
			}
			if (a.n == a.cap) {
				size_t nc = a.cap ? a.cap * 2 : 16;
				struct aws_pkg *np = realloc(a.pkgs, nc * sizeof(*np));
				if (!np) {
					rc = diag_fail(d, -ENOMEM, "out of memory");
					goto out;
				}
				a.pkgs = np;
				a.cap = nc;
			}
			char *name = aws_attr(x, "name"), *ep = aws_attr(x, "epoch"), *ver = aws_attr(x, "version"),
			     *relv = aws_attr(x, "release"), *arch = aws_attr(x, "arch");
			struct buf evr = BUF_INIT;
			int ok = name && ep && ver && relv && arch;
			if (ok && *ep && strcmp(ep, "0"))
				ok = buf_printf(&evr, "%s:", ep) == 0;
			if (ok)
				ok = buf_printf(&evr, "%s-%s", ver, relv) == 0;
			if (!ok || !*name || !*ver) {
				int oom = !ok;
				free(name), free(ep), free(ver), free(relv), free(arch);
				buf_release(&evr);
				rc = oom ? diag_fail(d, -ENOMEM, "out of memory")
					 : diag_fail(d, -EBADMSG, "%s: line %d: <package> without name or version", path,
						     xmlTextReaderGetParserLineNumber(x));
				goto out;
			}
			a.pkgs[a.n++] = (struct aws_pkg){name, buf_steal(&evr), arch};
			free(ep), free(ver), free(relv);
			if (!a.pkgs[a.n - 1].evr) {
				rc = diag_fail(d, -ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	if (r < 0 || io->err) {
		if (io->err)
			rc = diag_fail(d, io->err, "%s", io->rd.msg);
		else
			rc = diag_fail(d, -EBADMSG, "%s: line %d: %s", path, xe.set ? xe.line : xmlTextReaderGetParserLineNumber(x),
				       xe.set ? xe.msg : "malformed XML");
		goto out;
	}
	if (!seen_root)
		rc = diag_fail(d, -EBADMSG, "%s: no <updates> element", path);
	else if (in_update)
		rc = diag_fail(d, -EBADMSG, "%s: unterminated <update>", path);
out:
	if (x)
		xmlFreeTextReader(x);
	aws_update_reset(&a);
	free(a.pkgs);
	buf_release(&a.links);
	feed_reader_close(&io->r);
	free(io);
	return rc;
}

/* updateinfo location from repomd.xml text; heap string or NULL. */
static char *aws_repomd_updateinfo(const char *xml, size_t len)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)len, "repomd.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	char *ret = NULL;
	if (!doc)
		return NULL;
	for (xmlNodePtr n = xmlDocGetRootElement(doc) ? xmlDocGetRootElement(doc)->children : NULL; n && !ret; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "data"))
			continue;
		xmlChar *t = xmlGetProp(n, (const xmlChar *)"type");
		int want = t && !strcmp((const char *)t, "updateinfo");
		xmlFree(t);
		if (!want)
			continue;
		for (xmlNodePtr c = n->children; c && !ret; c = c->next)
			if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, "location")) {
				xmlChar *h = xmlGetProp(c, (const xmlChar *)"href");
				if (h)
					ret = strdup((const char *)h);
				xmlFree(h);
			}
	}
	xmlFreeDoc(doc);
	return ret;
}

/* Exposed for tests through aws_discover_url's behaviour only. */
static int aws_discover(const char *mirrorlist, const struct updater_http *http, char *out, size_t n, struct diag *d)
{
	struct buf body;
	long status = 0;
	buf_init(&body, 1 << 20);
	int rc = http->get(http->ctx, mirrorlist, &status, &body, d);
	if (rc == 0 && status != 200)
		rc = diag_fail(d, -EIO, "GET %s: status %ld", mirrorlist, status);
	char mirror[1024] = "";
	if (rc == 0 && body.data) {
		const char *p = body.data;
		while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			p++;
		size_t l = strcspn(p, "\r\n \t");
		if (l == 0 || l >= sizeof(mirror) - 1)
			rc = diag_fail(d, -EBADMSG, "%s: no mirror listed", mirrorlist);
		else {
			memcpy(mirror, p, l);
			mirror[l] = 0;
			if (mirror[l - 1] != '/')
				mirror[l] = '/', mirror[l + 1] = 0;
		}
	}
	if (rc == 0) {
		char u[2048];
		snprintf(u, sizeof(u), "%srepodata/repomd.xml", mirror);
		buf_reset(&body);
		status = 0;
		char *loc = NULL;
		struct diag dd = {{0}};
		if (http->get(http->ctx, u, &status, &body, &dd) == 0 && status == 200 && body.data)
			loc = aws_repomd_updateinfo(body.data, body.len);
		snprintf(out, n, "%s%s", mirror, loc ? loc : "repodata/updateinfo.xml.gz");
		free(loc);
	}
	buf_release(&body);
	return rc;
}

static int aws_expand(const json_t *cfg, const struct updater_http *http, struct updater_src **ret, size_t *ret_n,
		      struct diag *d)
{
	json_t *rels = cfg ? json_object_get(cfg, "releases") : NULL;
	json_t *urls = cfg ? json_object_get(cfg, "urls") : NULL;
	json_t *mirrors = cfg ? json_object_get(cfg, "mirrors") : NULL;
	if (rels && !json_is_array(rels))
		return diag_fail(d, -EINVAL, "updaters.config.aws.releases: want a list of AL1, AL2, AL2023");
	if ((urls && !json_is_object(urls)) || (mirrors && !json_is_object(mirrors)))
		return diag_fail(d, -EINVAL, "updaters.config.aws.urls / mirrors: want an object release -> URL");
	size_t nrel = rels ? json_array_size(rels) : sizeof(aws_rels) / sizeof(aws_rels[0]);
	for (size_t i = 0; i < nrel; i++) {
		const struct aws_rel *r;
		if (rels) {
			const char *k = json_string_value(json_array_get(rels, i));
			r = k ? aws_rel_get(k) : NULL;
			if (!r)
				return diag_fail(d, -EINVAL, "updaters.config.aws.releases[%zu]: want AL1, AL2 or AL2023", i);
		} else {
			r = &aws_rels[i];
		}
		char name[64], url[2048];
		snprintf(name, sizeof(name), "aws-%s-updater", r->key);
		const char *direct = feed_cfg_str(urls, r->key, NULL);
		if (direct) {
			snprintf(url, sizeof(url), "%s", direct);
		} else if (http && http->get) {
			const char *ml = feed_cfg_str(mirrors, r->key, r->mirror);
			int rc = aws_discover(ml, http, url, sizeof(url), d);
			if (rc < 0) {
				diag_prefix(d, "%s", name);
				return rc;
			}
		} else {
			log_warn("updater/aws", "no updateinfo URL configured and no http client: skipped", "{s:s}", "updater",
				 name);
			continue;
		}
		int rc = updater_src_push(ret, ret_n, name, url, aws_parse, (void *)r, NULL);
		if (rc < 0)
			return diag_fail(d, rc, "out of memory");
	}
	return 0;
}

const struct updater_set updater_set_aws = {"aws", aws_expand};

#include "scanner/app/rhelmap.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "scanner/indexer/scanners/scanners.h"

static const char *cfg_str(const json_t *o, const char *k)
{
	const json_t *v = o ? json_object_get(o, k) : NULL;
	return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
}

static int download(const char *url, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	CURL *c;
	CURLcode cc;
	long status = 0;

	if (!f) {
		snprintf(err, errlen, "cannot create %s", path);
		return -EIO;
	}
	c = curl_easy_init();
	if (!c) {
		fclose(f);
		return -ENOMEM;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(256 << 20));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (fclose(f) != 0 && cc == CURLE_OK)
		cc = CURLE_WRITE_ERROR;
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(cc));
		return -EIO;
	}
	if (status != 200) {
		snprintf(err, errlen, "HTTP %ld", status);
		return -EIO;
	}
	return 0;
}

void app_rhelmap_load(struct app_rhelmap *m, const struct clair_config *cfg)
{
	const json_t *repo = cfg->indexer.scanner ? json_object_get(cfg->indexer.scanner, "repo") : NULL;
	const json_t *rs = repo ? json_object_get(repo, "rhel-repository-scanner") : NULL;
	const char *file = cfg_str(rs, "repo2cpe_mapping_file"), *url = cfg_str(rs, "repo2cpe_mapping_url");
	char tmpl[] = "/tmp/clair-rhelmap.XXXXXX", err[256] = "";
	const char *tmp = getenv("TMPDIR");

	memset(m, 0, sizeof(*m));
	if (file) {
		if (access(file, R_OK) != 0)
			log_warn("indexer", "repository-to-CPE mapping file is not readable: RHEL repositories get no CPE",
				 "{s:s}", "file", file);
		m->path = strdup(file);
		scanners_repo_rhel_set_mapping(file);
		return;
	}
	if (!url) {
		if (cfg->indexer.airgap) {
			log_warn("indexer", "airgap: no repository-to-CPE mapping (set repo2cpe_mapping_file); RHEL "
					    "repositories get no CPE",
				 NULL);
			return;
		}
		url = APP_RHELMAP_DEFAULT_URL;
	}
	if (tmp && *tmp && strlen(tmp) < 200) {
		char *t = NULL;
		if (asprintf(&t, "%s/clair-rhelmap.XXXXXX", tmp) >= 0) {
			m->tmpdir = mkdtemp(t) ? t : (free(t), NULL);
		}
	}
	if (!m->tmpdir && mkdtemp(tmpl))
		m->tmpdir = strdup(tmpl);
	if (!m->tmpdir || asprintf(&m->path, "%s/repository-to-cpe.json", m->tmpdir) < 0) {
		m->path = NULL;
		log_warn("indexer", "no repository-to-CPE mapping: cannot create a temporary file", NULL);
		return;
	}
	if (download(url, m->path, err, sizeof(err)) < 0) {
		log_warn("indexer", "could not download the repository-to-CPE mapping: RHEL repositories get no CPE",
			 "{s:s,s:s}", "url", url, "error", err);
		unlink(m->path);
		return;
	}
	scanners_repo_rhel_set_mapping(m->path);
	log_info("indexer", "repository-to-CPE mapping loaded", "{s:s}", "url", url);
}

void app_rhelmap_release(struct app_rhelmap *m)
{
	if (m->tmpdir) {
		if (m->path)
			unlink(m->path);
		rmdir(m->tmpdir);
	}
	scanners_repo_rhel_set_mapping(NULL);
	free(m->tmpdir);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

/* types: what the indexer's parts exchange.
 *
 *   layer/    fetch + verify + stream-unpack one layer -> struct layer_files (only the files the
 *             scanners want, plus every whiteout path)
 *   scanners  (dist/ pkg/ repo/) one layer's files -> struct scan_result
 *   index     per-layer results stored, coalesced per ecosystem -> IndexReport JSON
 *
 * All strings are heap copies owned by the struct that holds them; "" rather than NULL for an
 * absent text field (Clair's JSON always carries most of them). */
#ifndef SCANNER_INDEXER_TYPES_H
#define SCANNER_INDEXER_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"

/* ---- one layer's files ---- */

enum layer_file_type {
	LAYER_FILE_REG = 0, /* data holds the content (links resolved inside the layer) */
	LAYER_FILE_DIR = 1, /* a directory entry the scanners asked for (dpkg's info/) */
};

struct layer_file {
	char *path; /* normalized: relative, no leading "/", no "." or ".." segments, "/"-separated */
	enum layer_file_type type;
	unsigned char *data; /* NUL-terminated copy (data[len] == 0); NULL for directories */
	size_t len;
	uint32_t mode; /* permission bits (gobin wants executables later) */
};

struct layer_files {
	char *digest; /* "sha256:<hex>" of the (compressed) layer */
	struct layer_file *files;
	size_t n_files;
	char **whiteouts; /* every entry whose base name starts with ".wh." (normalized paths) */
	size_t n_whiteouts;
	size_t n_entries;   /* tar entries seen */
	uint64_t tar_bytes; /* uncompressed bytes read */
};

void layer_files_release(struct layer_files *f);
/* The file at exactly path (normalized), or NULL. Linear scan is fine: layers keep few files. */
const struct layer_file *layer_files_get(const struct layer_files *f, const char *path);

/* ---- scanner results ---- */

struct idx_package {
	int64_t id, src_id; /* database row ids once stored (0 before); scanners leave them 0 */
	char *name;
	char *version;
	char *kind; /* "binary" or "source" */
	char *arch;
	char *module; /* "name:stream" for modular rpms, else "" */
	char *cpe;
	char *normalized_version; /* "" or "<kind>:n.n.n.n.n.n.n.n.n.n" */
	char *package_db;	  /* e.g. "var/lib/dpkg/status", "bdb:var/lib/rpm", "python:usr/lib/python3/dist-packages" */
	char *filepath;		  /* language packages: the metadata file; "" for OS packages */
	char *repository_hint;
	/* source package (kind "source"); src_name "" when none */
	char *src_name;
	char *src_version;
	char *src_module;
	char *src_arch;
};

struct idx_distribution {
	int64_t id; /* database row id once stored */
	char *did;
	char *name;
	char *version;
	char *version_code_name;
	char *version_id;
	char *arch;
	char *cpe;
	char *pretty_name;
};

struct idx_repository {
	int64_t id; /* database row id once stored */
	char *name;
	char *key;
	char *uri;
	char *cpe;
};

struct scan_result {
	struct idx_package *pkgs;
	size_t n_pkgs;
	struct idx_distribution *dists;
	size_t n_dists;
	struct idx_repository *repos;
	size_t n_repos;
};

void idx_package_release(struct idx_package *p);
void idx_distribution_release(struct idx_distribution *d);
void idx_repository_release(struct idx_repository *r);
void scan_result_release(struct scan_result *r);
/* Append copies (NULL fields become ""). 0 or -ENOMEM. */
int scan_result_add_package(struct scan_result *r, const struct idx_package *p);
int scan_result_add_distribution(struct scan_result *r, const struct idx_distribution *d);
int scan_result_add_repository(struct scan_result *r, const struct idx_repository *repo);

/* ---- scanners (one const descriptor each, listed in scanner/indexer/registry.c) ---- */

enum scanner_kind { SCANNER_PACKAGE, SCANNER_DISTRIBUTION, SCANNER_REPOSITORY, SCANNER_FILE };

struct scanner_desc {
	const char *name;      /* e.g. "dpkg" */
	const char *version;   /* bump when output changes: changes the index state */
	enum scanner_kind kind;
	const char *ecosystem; /* coalescing group: "dpkg", "alpine", "rhel", "rpm", "python" */
	/* Does this scanner need the file (or directory) at path? Called for every tar entry;
	 * must be cheap. is_dir: the entry is a directory. */
	int (*want)(const char *path, int is_dir);
	/* Scans one layer's buffered files. Bad content in one database is a warning (logged,
	 * skipped), not an error; return <0 only for -ENOMEM or internal failure. */
	int (*scan)(const struct layer_files *files, struct scan_result *out, struct diag *d);
};

const char *scanner_kind_name(enum scanner_kind k); /* "package", "distribution", "repository", "file" */

#endif

/* jsonblob: Clair's updater export format (clair-spec §8; claircore libvuln/jsonblob):
 * newline-delimited JSON, optionally gzip- or zstd-compressed, one line per record:
 *
 *   {"Updater":"...","Fingerprint":"...","Date":"<RFC 3339>","Ref":"<uuid>",
 *    "Vuln":{<Clair's Vulnerability JSON>},"Kind":"vulnerability"}
 *
 * Consecutive lines with the same Ref form one update operation. The Vulnerability object carries
 * Clair's fields (id, updater, name, description, issued, links, severity, normalized_severity,
 * package, distribution, repository, fixed_in_version, arch_op) plus, only when non-empty, the
 * keys range_introduced, range_fixed, range_last_affected and version_kind that this
 * implementation needs for exact ranges (Clair's decoder ignores unknown keys). */
#ifndef SCANNER_MATCHER_JSONBLOB_H
#define SCANNER_MATCHER_JSONBLOB_H

#include <jansson.h>
#include <stdbool.h>

#include "common/diag.h"
#include "scanner/matcher/vuln.h"

enum jsonblob_compression { JSONBLOB_PLAIN, JSONBLOB_GZIP, JSONBLOB_ZSTD };

/* By suffix: ".gz" gzip, ".zst" zstd, else plain. */
enum jsonblob_compression jsonblob_compression_for_path(const char *path);

/* Clair's Vulnerability JSON for v (NULL on OOM). */
json_t *jsonblob_vuln_to_json(const struct vuln *v);
/* The inverse (strings copied; missing ones ""). 0 or -EINVAL (not an object) / -ENOMEM. */
int jsonblob_vuln_from_json(const json_t *j, struct vuln *ret, struct diag *d);

struct jsonblob_writer;

/* path NULL or "-" = stdout. The file is created (0644) / truncated. */
int jsonblob_writer_open(const char *path, enum jsonblob_compression c, struct jsonblob_writer **ret, struct diag *d);

struct jsonblob_op_hdr {
	const char *updater, *fingerprint, *date, *ref;
};
int jsonblob_write_vuln(struct jsonblob_writer *w, const struct jsonblob_op_hdr *h, const struct vuln *v,
                        struct diag *d);
/* Flushes and frees w (also on error). */
int jsonblob_writer_close(struct jsonblob_writer *w, struct diag *d);

struct jsonblob_reader;

/* path "-" = stdin. Compression (gzip, zstd, bzip2, xz) is sniffed. */
int jsonblob_reader_open(const char *path, struct jsonblob_reader **ret, struct diag *d);
void jsonblob_reader_close(struct jsonblob_reader *r);

struct jsonblob_record {
	char *updater, *fingerprint, *date, *ref, *kind;
	bool has_vuln;
	struct vuln vuln; /* when has_vuln */
};
void jsonblob_record_release(struct jsonblob_record *rec);
/* 1 = a record, 0 = end, <0 = error (diag names the line). Blank lines are skipped; lines are
 * capped at 64 MiB. */
int jsonblob_read(struct jsonblob_reader *r, struct jsonblob_record *rec, struct diag *d);

/* A fresh random (v4) uuid string and the current time as RFC 3339 (UTC, seconds). */
void jsonblob_new_ref(char out[37]);
void jsonblob_now(char out[40]);

#endif

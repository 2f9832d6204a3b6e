/* catalog.h - named, versioned datasets and models on the shared filesystem
 *
 * Layout under staging.shared_root:
 *   ROOT/datasets/NAME/VERSION/NAME.h5    the data (read-only once stored)
 *   ROOT/datasets/NAME/VERSION/meta.json  its record (below)
 *   ROOT/datasets/NAME/VERSION/blocks.sha256  SHA-256 of each 1 MiB of it
 *   ROOT/models/NAME/VERSION/...          the same for models
 * A version directory is claimed with mkdir (so concurrent imports get
 * different numbers) and becomes visible when meta.json is renamed into
 * place.  Names: [A-Za-z0-9][A-Za-z0-9._-]*, at most 64 characters.
 *
 * A record (meta.json):
 *   {"kind": "dataset"|"model", "name", "version", "file" (absolute path),
 *    "sha256", "size", "created" (epoch seconds), "owner" (user name),
 *    "uid", "source" (path imported from), "contents" (h5data_describe),
 *    "blocks" {"size": bytes per block, "count", "file": "blocks.sha256",
 *    "sha256": of that file} (records from before it have none),
 *    "provenance" {...} (models: job id, user, inputs, exit code, times)}
 */
#ifndef AIOS_CATALOG_H
#define AIOS_CATALOG_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

#include "errprintf.h"
#include "h5data.h"

/* The block size of the checksums a new version gets, and their file. */
#define CATALOG_BLOCK_BYTES ((uint64_t)1 << 20)
#define BLOCKS_FILE "blocks.sha256"

enum catalog_kind { CATALOG_DATASET, CATALOG_MODEL };

const char *catalog_kind_name (enum catalog_kind kind);
bool catalog_name_ok (const char *name);

/* The variable that gives a job the path of its copy of dataset NAME:
 * "AIOS_DATASET_" and NAME upper-cased, other than letters and digits made
 * "_" (so "mnist-v2" and "mnist.v2" share AIOS_DATASET_MNIST_V2). */
#define CATALOG_ENV_PREFIX "AIOS_DATASET_"
#define CATALOG_NAME_MAX 64 /* characters in a name */
#define CATALOG_ENV_MAX (sizeof (CATALOG_ENV_PREFIX) + CATALOG_NAME_MAX)
void catalog_env_name (const char *name, char buf[CATALOG_ENV_MAX]);

/* "NAME" or "NAME:VERSION" -> name (malloc'd) and version (0 = latest). */
int catalog_parse_ref (const char *ref, char **name, int *version,
                       aios_error_t *err);

/* The record of NAME:VERSION (version 0: the latest).  err names what is
 * missing: the catalog, the name, or the version (listing those there are). */
json_t *catalog_lookup (const char *root, enum catalog_kind kind,
                        const char *name, int version, aios_error_t *err);

/* Store a copy of file as the next version of name.  attrs (may be NULL)
 * are set on the copy's root group before its checksum is taken;
 * provenance (may be NULL) goes into the record.  Returns the new record. */
json_t *catalog_import (const char *root, enum catalog_kind kind,
                        const char *file, const char *name, json_t *attrs,
                        json_t *provenance, aios_error_t *err);

/* The same, stored for uid (root storing a job's model for its user: the
 * version directory and its files are given to uid, and the record names
 * uid as the owner); catalog_import() is this with geteuid(). */
json_t *catalog_import_as (const char *root, enum catalog_kind kind,
                           const char *file, const char *name, json_t *attrs,
                           json_t *provenance, uid_t uid, aios_error_t *err);

/* Every record of kind (name NULL) or of one name, sorted by name then
 * version.  An empty catalog is an empty array. */
json_t *catalog_list (const char *root, enum catalog_kind kind,
                      const char *name, aios_error_t *err);

/* Recompute the checksum (and the block checksums, in the same read) and
 * reopen the file: 0 if it matches the record, -1 with err naming the
 * difference otherwise. */
int catalog_verify (const char *root, enum catalog_kind kind,
                    const char *name, int version, aios_error_t *err);

/* Remove one version (version > 0) or every version (0). */
int catalog_remove (const char *root, enum catalog_kind kind,
                    const char *name, int version, aios_error_t *err);

/* The record of the catalog file file (its version's meta.json). */
json_t *catalog_record_of (const char *file, aios_error_t *err);
/* rec's block checksums into *b (b->sha256 the caller's to free): 1, or 0
 * when it has none (*b empty); -1 when they are malformed. */
int catalog_blocks (json_t *rec, struct h5data_blocks *b, aios_error_t *err);

#endif

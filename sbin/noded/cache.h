/* cache.h - the node's dataset cache: copies of catalog datasets (or of
 * their shards) under one directory, bounded in bytes, evicted least
 * recently used first, never while a job uses them.
 *
 * A key is "NAME:VERSION" (the whole file) or "NAME:VERSION/I-of-N" (shard I
 * of N); its copy lies at DIR/NAME/VERSION/whole.h5 or
 * DIR/NAME/VERSION/shard-I-of-N.h5.  An entry is
 *   READY    a complete, verified copy: usable, evictable when unpinned;
 *   PENDING  being copied: its bytes are reserved; not usable, never evicted.
 * Pins are owner ids (a job's id, or a prefetch's token); an entry with a
 * pin is never evicted.  Recency is the order of use (at start: of the
 * files' mtimes; each use touches the file).
 *
 * The index does no copying: the caller reserves room, copies, then
 * commits or aborts.  With dir NULL it is an index without files (tests).
 */
#ifndef AIOS_NODED_CACHE_H
#define AIOS_NODED_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "errprintf.h"

struct cache;

enum cache_state { CACHE_ABSENT = 0, CACHE_READY, CACHE_PENDING };

struct cache_stats {
    uint64_t hits, misses, evictions, copied_bytes;
    uint64_t used_bytes;        /* READY and PENDING */
    uint64_t pinned_bytes;      /* pinned READY and PENDING */
    uint64_t limit_bytes;
    size_t entries;
};

/* Index the copies under dir (created if missing): "*.part" leftovers are
 * removed, then the least recently used entries beyond limit evicted. */
struct cache *cache_create (const char *dir, uint64_t limit, aios_error_t *err);
void cache_destroy (struct cache *c);

/* The key of name:version (count 0) or of its shard index of count.
 * Fails (EINVAL) on a bad name, version, index or count. */
int cache_key (const char *name, int version, int index, int count,
               char *buf, size_t len);
/* The path of key's copy ("" dir: relative to it). */
int cache_path (const struct cache *c, const char *key, char *buf, size_t len);

enum cache_state cache_state (const struct cache *c, const char *key);

/* A READY entry is used: touched, counted as a hit, pinned for owner (0:
 * not pinned).  ENOENT if key is not READY. */
int cache_use (struct cache *c, const char *key, uint64_t owner);
/* The copy of a READY entry is gone: forget it. */
void cache_forget (struct cache *c, const char *key);

/* Evict unpinned READY entries, least recently used first, until bytes
 * more fit under the limit.  Nothing is evicted when that is impossible;
 * err then says so ("no room in the node cache: ..."), errno ENOSPC. */
int cache_make_room (struct cache *c, uint64_t bytes, aios_error_t *err);
/* A copy of key begins: a PENDING entry of bytes (an estimate), counted as
 * a miss.  EEXIST if key is in the index. */
int cache_reserve (struct cache *c, const char *key, uint64_t bytes);
/* The copy of a PENDING key is complete: READY with its real size, pinned
 * for owner (0: not pinned), touched.  Evicts what it can if the real size
 * overshoots the limit. */
int cache_commit (struct cache *c, const char *key, uint64_t bytes,
                  uint64_t owner);
/* The copy of a PENDING key failed: the caller removed its files, the
 * directories they leave empty go. */
void cache_abort (struct cache *c, const char *key);

/* Drop owner's pins. */
void cache_unpin (struct cache *c, uint64_t owner);

/* The READY keys as a JSON array (caller owns it). */
json_t *cache_keys (const struct cache *c);
void cache_get_stats (const struct cache *c, struct cache_stats *st);

/* "300 MiB", "1.5 GiB", "512 bytes" into buf. */
const char *cache_human (uint64_t bytes, char *buf, size_t len);

#endif

/* admin.c - aios-control update, show partition|config, reconfigure,
 * shutdown (placeholder) */
#include <errno.h>
#include <string.h>

#include "conn.h"
#include "ctld.h"

#define STUB(fn) \
    void fn (struct conn *c, json_t *req, json_int_t seq) \
    { \
        (void)req; \
        conn_error (c, seq, ENOSYS, "%s: not built yet", #fn); \
    }
STUB (admin_update)
STUB (admin_partitions)
STUB (admin_config)
STUB (admin_reconfigure)
STUB (admin_shutdown)

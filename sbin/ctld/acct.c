/* acct.c - aios-acct queries (placeholder) */
#include <errno.h>
#include <string.h>

#include "conn.h"
#include "ctld.h"

int acct_init (struct ctld *ctld, aios_error_t *err)
{
    (void)ctld;
    (void)err;
    return 0;
}

void acct_fini (struct ctld *ctld)
{
    (void)ctld;
}

void acct_request (struct conn *c, json_t *req, json_int_t seq)
{
    (void)req;
    conn_error (c, seq, ENOSYS, "acct: not built yet");
}

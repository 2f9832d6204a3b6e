/* pmix-client.c - a small PMIx client: the checks of aios-run --mpi=pmix
 *
 * Init; the job size and this rank's local rank from the server; Put a
 * value, Commit, Fence collecting data; Get the value the next rank put
 * (on another node when ranks are spread one per node); Finalize.  Prints
 * "pmix rank R of N (local rank L): rank S said VALUE ok" or exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pmix.h>

static void die (const char *what, pmix_status_t rc)
{
    fprintf (stderr, "pmix-client: %s: %s\n", what, PMIx_Error_string (rc));
    exit (1);
}

int main (void)
{
    pmix_proc_t me, wild, peer;
    pmix_value_t val, *got = NULL;
    pmix_info_t info;
    pmix_status_t rc;
    uint32_t size;
    uint16_t local;
    char key[64], want[64];
    bool collect = true;
    const char *node = getenv ("AIOS_NODENAME");

    if ((rc = PMIx_Init (&me, NULL, 0)) != PMIX_SUCCESS)
        die ("PMIx_Init", rc);
    PMIX_LOAD_PROCID (&wild, me.nspace, PMIX_RANK_WILDCARD);
    if ((rc = PMIx_Get (&wild, PMIX_JOB_SIZE, NULL, 0, &got)) != PMIX_SUCCESS)
        die ("PMIx_Get job size", rc);
    size = got->data.uint32;
    PMIX_VALUE_RELEASE (got);
    if ((rc = PMIx_Get (&me, PMIX_LOCAL_RANK, NULL, 0, &got)) != PMIX_SUCCESS)
        die ("PMIx_Get local rank", rc);
    local = got->data.uint16;
    PMIX_VALUE_RELEASE (got);

    snprintf (want, sizeof (want), "hello from rank %u on %s", me.rank,
              node ? node : "?");
    PMIX_VALUE_LOAD (&val, want, PMIX_STRING);
    if ((rc = PMIx_Put (PMIX_GLOBAL, "aios.test", &val)) != PMIX_SUCCESS)
        die ("PMIx_Put", rc);
    PMIX_VALUE_DESTRUCT (&val);
    if ((rc = PMIx_Commit ()) != PMIX_SUCCESS)
        die ("PMIx_Commit", rc);
    PMIX_INFO_LOAD (&info, PMIX_COLLECT_DATA, &collect, PMIX_BOOL);
    if ((rc = PMIx_Fence (&wild, 1, &info, 1)) != PMIX_SUCCESS)
        die ("PMIx_Fence", rc);

    PMIX_LOAD_PROCID (&peer, me.nspace, (me.rank + 1) % size);
    snprintf (key, sizeof (key), "aios.test");
    if ((rc = PMIx_Get (&peer, key, NULL, 0, &got)) != PMIX_SUCCESS)
        die ("PMIx_Get of the next rank's value", rc);
    printf ("pmix rank %u of %u (local rank %u): rank %u said \"%s\" ok\n",
            me.rank, size, local, peer.rank, got->data.string);
    PMIX_VALUE_RELEASE (got);
    if ((rc = PMIx_Finalize (NULL, 0)) != PMIX_SUCCESS)
        die ("PMIx_Finalize", rc);
    return 0;
}

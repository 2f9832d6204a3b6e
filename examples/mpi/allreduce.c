/* allreduce.c - every rank adds its rank + 1; all must see n(n+1)/2
 *
 * Prints "rank R of N on HOST: sum S (expected E) ok|WRONG" and exits 1 if
 * the sum is wrong.  Used by the tests of aios-run and of mpiexec in jobs.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main (int argc, char **argv)
{
    int rank, size, mine, sum = 0, expected;
    char host[256] = "?";
    /* under mpiexec the ranks get mpiexec's environment; the node that
     * started their proxy (aios-exec) is in AIOS_EXEC_NODE */
    const char *node = getenv ("AIOS_EXEC_NODE") ? getenv ("AIOS_EXEC_NODE")
                                                 : getenv ("AIOS_NODENAME");

    MPI_Init (&argc, &argv);
    MPI_Comm_rank (MPI_COMM_WORLD, &rank);
    MPI_Comm_size (MPI_COMM_WORLD, &size);
    gethostname (host, sizeof (host));
    mine = rank + 1;
    MPI_Allreduce (&mine, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    expected = size * (size + 1) / 2;
    printf ("rank %d of %d on %s: sum %d (expected %d) %s\n", rank, size,
            node ? node : host, sum, expected, sum == expected ? "ok" : "WRONG");
    MPI_Finalize ();
    return sum == expected ? 0 : 1;
}

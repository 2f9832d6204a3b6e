/* daemon.c - detaching with the parent reporting startup errors */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>


#include "daemon.h"

int daemon_begin (bool foreground, aios_error_t *err)
{
    int pfd[2];
    pid_t pid;
    char buf[1024];
    ssize_t n, total = 0;

    if (foreground)
        return -1;
    if (pipe2 (pfd, O_CLOEXEC) < 0)
        return errprintf (err, "pipe: %s", strerror (errno));
    if ((pid = fork ()) < 0)
        return errprintf (err, "fork: %s", strerror (errno));
    if (pid > 0) {
        close (pfd[1]);
        while (total < (ssize_t)sizeof (buf) - 1
               && (n = read (pfd[0], buf + total, sizeof (buf) - 1 - total)) != 0) {
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                break;
            total += n;
        }
        buf[total] = '\0';
        if (total > 0 && !strcmp (buf, "OK"))
            _exit (0);
        fprintf (stderr, "%s\n", total > 0 ? buf : "daemon exited during startup");
        _exit (1);
    }
    close (pfd[0]);
    /* Hold nothing the starter had open (a pipe it reads to EOF, say). */
    if (pfd[1] > 3)
        close_range (3, (unsigned)pfd[1] - 1, 0);
    close_range ((unsigned)pfd[1] + 1, ~0U, 0);
    if (setsid () < 0)
        return errprintf (err, "setsid: %s", strerror (errno));
    return pfd[1];
}

static void redirect_stdio (void)
{
    int fd = open ("/dev/null", O_RDWR);

    if (fd >= 0) {
        dup2 (fd, STDIN_FILENO);
        dup2 (fd, STDOUT_FILENO);
        dup2 (fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close (fd);
    }
}

void daemon_ready (int fd)
{
    if (fd < 0)
        return;
    redirect_stdio ();
    if (write (fd, "OK", 2) < 0) {
        /* parent gone: nothing to tell */
    }
    close (fd);
}

void daemon_fail (int fd, const char *msg)
{
    if (fd < 0) {
        fprintf (stderr, "%s\n", msg);
        return;
    }
    if (write (fd, msg, strlen (msg)) < 0) {
        /* parent gone */
    }
    close (fd);
}

/* Is pid a live process?  A zombie (killed, not yet reaped) is not. */
static bool pid_alive (long pid)
{
    char path[64], buf[512], *p;
    FILE *f;
    size_t n;

    if (pid <= 0 || kill ((pid_t)pid, 0) < 0)
        return false;
    snprintf (path, sizeof (path), "/proc/%ld/stat", pid);
    if (!(f = fopen (path, "r")))
        return true;
    n = fread (buf, 1, sizeof (buf) - 1, f);
    fclose (f);
    buf[n] = '\0';
    p = strrchr (buf, ')');
    return !(p && p[1] == ' ' && p[2] == 'Z');
}

int pidfile_write (const char *path, aios_error_t *err)
{
    FILE *f;
    long old;
    char tmp[4096];

    if ((f = fopen (path, "r"))) {
        if (fscanf (f, "%ld", &old) == 1 && old != (long)getpid ()
            && pid_alive (old)) {
            fclose (f);
            errno = EEXIST;
            return errprintf (err, "%s: already running as pid %ld", path, old);
        }
        fclose (f);
    }
    if (snprintf (tmp, sizeof (tmp), "%s.tmp", path) >= (int)sizeof (tmp)) {
        errno = ENAMETOOLONG;
        return errprintf (err, "%s: path too long", path);
    }
    if (!(f = fopen (tmp, "w")))
        return errprintf (err, "%s: %s", tmp, strerror (errno));
    fprintf (f, "%ld\n", (long)getpid ());
    if (fclose (f) != 0 || rename (tmp, path) < 0)
        return errprintf (err, "%s: %s", path, strerror (errno));
    return 0;
}

void pidfile_remove (const char *path)
{
    if (path)
        (void)unlink (path);
}

int mkdir_p (const char *path, int mode, aios_error_t *err)
{
    char buf[4096];
    char *p;

    if (snprintf (buf, sizeof (buf), "%s", path) >= (int)sizeof (buf)) {
        errno = ENAMETOOLONG;
        return errprintf (err, "%s: path too long", path);
    }
    for (p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir (buf, (mode_t)mode) < 0 && errno != EEXIST)
            return errprintf (err, "mkdir %s: %s", buf, strerror (errno));
        *p = '/';
    }
    if (mkdir (buf, (mode_t)mode) < 0 && errno != EEXIST)
        return errprintf (err, "mkdir %s: %s", buf, strerror (errno));
    return 0;
}

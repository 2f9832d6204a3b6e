/* plugin.c - loading policy plugins by name */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin.h"

struct policy {
    void *dso;
    char *path;
    struct aios_policy_ops ops;
};

void policy_unload (struct policy *p)
{
    int saved = errno;

    if (p) {
        if (p->dso)
            dlclose (p->dso);
        free (p->path);
        free (p);
    }
    errno = saved;
}

static int valid_name (const char *name)
{
    size_t i;

    if (!name || !*name)
        return 0;
    for (i = 0; name[i]; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'
              || c == '-'))
            return 0;
    }
    return 1;
}

struct policy *policy_load (const char *dir, const char *name, aios_error_t *err)
{
    struct policy *p;
    aios_policy_init_f init;
    char path[4096];

    if (!valid_name (name)) {
        errno = EINVAL;
        errprintf (err, "invalid policy name \"%s\"", name ? name : "");
        return NULL;
    }
    snprintf (path, sizeof (path), "%s/%s.so", dir, name);
    if (!(p = calloc (1, sizeof (*p))) || !(p->path = strdup (path))) {
        free (p);
        errno = ENOMEM;
        errprintf (err, "out of memory");
        return NULL;
    }
    if (access (path, R_OK) < 0) {
        errprintf (err, "policy %s: %s: %s", name, path, strerror (errno));
        goto error;
    }
    if (!(p->dso = dlopen (path, RTLD_NOW | RTLD_LOCAL))) {
        errno = ENOEXEC;
        errprintf (err, "policy %s: %s", name, dlerror ());
        goto error;
    }
    if (!(init = (aios_policy_init_f)dlsym (p->dso, AIOS_POLICY_INIT_SYMBOL))) {
        errno = ENOENT;
        errprintf (err, "policy %s: %s: symbol %s not found", name, path,
                   AIOS_POLICY_INIT_SYMBOL);
        goto error;
    }
    if (init (&p->ops) < 0) {
        errno = EINVAL;
        errprintf (err, "policy %s: %s: initialisation failed", name, path);
        goto error;
    }
    if (p->ops.abi != AIOS_POLICY_ABI) {
        errno = EINVAL;
        errprintf (err, "policy %s: %s: ABI version %d, expected %d", name,
                   path, p->ops.abi, AIOS_POLICY_ABI);
        goto error;
    }
    if (!p->ops.priority) {
        errno = EINVAL;
        errprintf (err, "policy %s: %s: no priority function", name, path);
        goto error;
    }
    return p;
error:
    policy_unload (p);
    return NULL;
}

const struct aios_policy_ops *policy_ops (const struct policy *p)
{
    return &p->ops;
}

const char *policy_path (const struct policy *p)
{
    return p->path;
}

/* builtin.c - the policy plugins, linked statically (see policy.h) */
#include <errno.h>
#include <string.h>

#include "builtin.h"

int aios_policy_fifo_init (struct aios_policy_ops *ops);
int aios_policy_sjf_init (struct aios_policy_ops *ops);
int aios_policy_priority_init (struct aios_policy_ops *ops);

static const struct {
    const char *name;
    aios_policy_init_f init;
} builtins[] = {
    { "fifo", aios_policy_fifo_init },
    { "sjf", aios_policy_sjf_init },
    { "priority", aios_policy_priority_init },
};

int policy_builtin (const char *name, struct aios_policy_ops *ops)
{
    size_t i;

    for (i = 0; i < sizeof (builtins) / sizeof (builtins[0]); i++) {
        if (name && !strcmp (name, builtins[i].name)) {
            memset (ops, 0, sizeof (*ops));
            return builtins[i].init (ops);
        }
    }
    errno = ENOENT;
    return -1;
}

const char *policy_builtin_names (void)
{
    return "fifo, sjf, priority";
}

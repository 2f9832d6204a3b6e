/* gpu.c - finding this node's NVIDIA GPUs */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"
#include "log.h"

/* NVML's C API (nvml.h is not needed: three calls, ints and pointers). */
typedef int (*nvml_init_f) (void);
typedef int (*nvml_count_f) (unsigned int *count);
typedef int (*nvml_shutdown_f) (void);

static int detect_nvml (void)
{
    void *dso = dlopen ("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    nvml_init_f init;
    nvml_count_f count;
    nvml_shutdown_f shutdown;
    unsigned int n = 0;
    int rc = -1;

    if (!dso)
        return -1;
    init = (nvml_init_f)dlsym (dso, "nvmlInit_v2");
    count = (nvml_count_f)dlsym (dso, "nvmlDeviceGetCount_v2");
    shutdown = (nvml_shutdown_f)dlsym (dso, "nvmlShutdown");
    if (init && count && shutdown && init () == 0) {
        if (count (&n) == 0)
            rc = (int)n;
        else
            log_warn ("NVML: nvmlDeviceGetCount_v2 failed");
        shutdown ();
    } else
        log_warn ("NVML: libnvidia-ml.so.1 found but could not be initialised");
    dlclose (dso);
    return rc;
}

int gpu_parse_smi (const char *text)
{
    const char *line = text;
    int n = 0;

    while (line && *line) {
        const char *nl = strchr (line, '\n');
        unsigned idx;
        if (sscanf (line, "GPU %u:", &idx) == 1)
            n++;
        line = nl ? nl + 1 : NULL;
    }
    return n;
}

static int detect_smi (void)
{
    FILE *f = popen ("nvidia-smi -L 2>/dev/null", "r");
    char buf[8192];
    size_t got;
    int status;

    if (!f)
        return -1;
    got = fread (buf, 1, sizeof (buf) - 1, f);
    buf[got] = '\0';
    status = pclose (f);
    if (status != 0)
        return -1;
    return gpu_parse_smi (buf);
}

int gpu_detect (char *how, size_t len)
{
    int n;

    if ((n = detect_nvml ()) >= 0) {
        snprintf (how, len, "nvml");
        return n > 64 ? 64 : n;
    }
    if ((n = detect_smi ()) >= 0) {
        snprintf (how, len, "nvidia-smi");
        return n > 64 ? 64 : n;
    }
    snprintf (how, len, "none");
    return 0;
}

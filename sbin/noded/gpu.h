/* gpu.h - finding this node's NVIDIA GPUs */
#ifndef AIOS_NODED_GPU_H
#define AIOS_NODED_GPU_H

#include <stddef.h>

/* Count the node's NVIDIA GPUs: through NVML (libnvidia-ml.so.1, loaded at
 * run time), else by parsing "nvidia-smi -L" (found on PATH); 0 when
 * neither works.  how gets "nvml", "nvidia-smi" or "none". */
int gpu_detect (char *how, size_t len);

/* Count "GPU N: ..." lines in nvidia-smi -L output. */
int gpu_parse_smi (const char *text);

#endif

/* paths.h - installed paths (the build passes them with -D; these are the
 * fallbacks for a compile without the build system) */
#ifndef AIOS_PATHS_H
#define AIOS_PATHS_H

#ifndef AIOS_RUNDIR
#define AIOS_RUNDIR "/run/aios"
#endif
#ifndef AIOS_STATEDIR
#define AIOS_STATEDIR "/var/lib/aios"
#endif
#ifndef AIOS_LOGDIR
#define AIOS_LOGDIR "/var/log/aios"
#endif
#ifndef AIOS_SPOOLDIR
#define AIOS_SPOOLDIR "/var/spool/aios"
#endif
#ifndef AIOS_PLUGINDIR
#define AIOS_PLUGINDIR "/usr/local/lib/aios"
#endif
#ifndef AIOS_SYSCONFDIR
#define AIOS_SYSCONFDIR "/etc/aios"
#endif

#endif

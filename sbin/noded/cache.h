/* cache.h */
#ifndef AIOS_NODED_CACHE_H
#define AIOS_NODED_CACHE_H
#endif

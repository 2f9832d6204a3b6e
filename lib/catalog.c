/* placeholder */
#include "catalog.h"

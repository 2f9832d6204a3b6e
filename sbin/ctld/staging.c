/* placeholder */
#include "ctld.h"

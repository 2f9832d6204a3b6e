/* placeholder */
#include "h5data.h"

/* placeholder */
#include "noded.h"

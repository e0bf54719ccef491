/*
 * banned-pre.h - force-included into every translation unit: pulls in the
 * libc headers that declare the banned functions first, so that banned.h's
 * macros apply to the project's own code only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/banned.h"

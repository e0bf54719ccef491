/*
 * test.h - what every cmocka unit test includes.
 */
#ifndef PVE_GITOPS_TEST_H
#define PVE_GITOPS_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif

/*
 * t.h - the smallest test harness: checks count, failures print file:line
 * and the expression, and main returns the automake exit code (0 pass,
 * 1 fail, 77 skip).
 *
 *   CHECK(expr)            fails when expr is false
 *   CHECK_STR(a, b)        fails when the strings differ (NULL-safe)
 *   CHECK_INT(a, b)        fails when the integers differ
 *   T_SKIP(why)            skip the whole program (exit 77) with a reason
 *   T_DONE()               print the count and return the exit code
 */
#ifndef DM_T_H
#define DM_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_checks, t_failed;

#define CHECK(e) do {							\
	t_checks++;							\
	if (!(e)) {							\
		t_failed++;						\
		fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #e); \
	}								\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *t_a = (a), *t_b = (b);				\
	t_checks++;							\
	if (t_a == NULL || t_b == NULL ? t_a != t_b : strcmp(t_a, t_b) != 0) { \
		t_failed++;						\
		fprintf(stderr, "%s:%d: FAIL: %s == %s: \"%s\" != \"%s\"\n", \
		    __FILE__, __LINE__, #a, #b, t_a ? t_a : "(null)",	\
		    t_b ? t_b : "(null)");				\
	}								\
} while (0)

#define CHECK_INT(a, b) do {						\
	long long t_a = (long long)(a), t_b = (long long)(b);		\
	t_checks++;							\
	if (t_a != t_b) {						\
		t_failed++;						\
		fprintf(stderr, "%s:%d: FAIL: %s == %s: %lld != %lld\n", \
		    __FILE__, __LINE__, #a, #b, t_a, t_b);		\
	}								\
} while (0)

#define T_SKIP(why) do {						\
	fprintf(stderr, "SKIP: %s\n", (why));				\
	exit(77);							\
} while (0)

#define T_DONE() (printf("%d checks, %d failed\n", t_checks, t_failed), \
	t_failed ? 1 : (t_checks ? 0 : 99))

#endif

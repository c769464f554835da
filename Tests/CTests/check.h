/* Tiny check helpers for the C API tests: each failed CHECK prints the
 * condition and the handle's last error and counts a failure; the test
 * exits non-zero if anything failed. */
#ifndef CTESTS_CHECK_H_
#define CTESTS_CHECK_H_

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond) do {                                                 \
    check_count++;                                                       \
    if (!(cond)) {                                                       \
      check_failures++;                                                  \
      fprintf (stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                    \
  } while (0)

/* A check that also shows the handle's last error when it fails. */
#define CHECK_G(g, cond) do {                                            \
    check_count++;                                                       \
    if (!(cond)) {                                                       \
      const char *_e = guestfs_last_error (g);                           \
      check_failures++;                                                  \
      fprintf (stderr, "%s:%d: FAILED: %s (last error: %s, errno %d)\n", \
               __FILE__, __LINE__, #cond, _e ? _e : "(none)",            \
               guestfs_last_errno (g));                                  \
    }                                                                    \
  } while (0)

#define STREQ(a, b) ((a) != NULL && (b) != NULL && strcmp ((a), (b)) == 0)
#define STRPREFIX(a, p) ((a) != NULL && strncmp ((a), (p), strlen (p)) == 0)

static int
check_summary (const char *name)
{
  printf ("%s: %d checks, %d failed\n", name, check_count, check_failures);
  return check_failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif

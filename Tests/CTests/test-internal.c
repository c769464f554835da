/* The bindings-test calls (internal_test*, library-side, no appliance):
 * every argument and return type through the C binding. */

#define GUESTFS_PRIVATE 1

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <guestfs.h>

#include "check.h"

static void
test_internal (void)
{
  guestfs_h *g = guestfs_create_flags (GUESTFS_CREATE_NO_ENVIRONMENT);
  char tmpl[] = "/tmp/ctests-outXXXXXX";
  int fd = mkstemp (tmpl);
  char buf[4096];
  ssize_t n;
  char **l;
  size_t len, i;
  char *s;
  struct guestfs_lvm_pv *pv;
  struct guestfs_lvm_pv_list *pvl;

  CHECK (fd >= 0);
  guestfs_set_error_handler (g, NULL, NULL);

  CHECK_G (g, guestfs_internal_test_set_output (g, tmpl) == 0);
  CHECK_G (g, guestfs_internal_test (g, "abc", NULL, (char *[]) { "x", "y", NULL }, 1, 42, -7,
                                     "/in", "/out", "\x01\xff", 2,
                                     GUESTFS_INTERNAL_TEST_OINT, 5,
                                     GUESTFS_INTERNAL_TEST_OSTRING, "opt",
                                     -1) == 0);
  CHECK_G (g, guestfs_internal_test_close_output (g) == 0);
  /* Read it by name: the library may have replaced the file. */
  close (fd);
  fd = open (tmpl, O_RDONLY);
  CHECK (fd >= 0);
  n = read (fd, buf, sizeof buf - 1);
  CHECK (n > 0);
  buf[n > 0 ? n : 0] = 0;
  CHECK (STREQ (buf,
                "abc\nnull\n[\"x\", \"y\"]\ntrue\n42\n-7\n/in\n/out\n<01><ff>\n"
                "unset\n5\nunset\nopt\nunset\n"));
  if (!STREQ (buf, "abc\nnull\n[\"x\", \"y\"]\ntrue\n42\n-7\n/in\n/out\n<01><ff>\n"
              "unset\n5\nunset\nopt\nunset\n"))
    fprintf (stderr, "internal_test wrote:\n%s", buf);
  close (fd);
  unlink (tmpl);

  /* Optional arguments only; the 63rd bit; a repeated one. */
  fd = open (tmpl, O_CREAT | O_TRUNC | O_WRONLY, 0600);
  close (fd);
  CHECK_G (g, guestfs_internal_test_set_output (g, tmpl) == 0);
  CHECK_G (g, guestfs_internal_test_only_optargs (g, -1) == 0);
  CHECK_G (g, guestfs_internal_test_only_optargs (g, GUESTFS_INTERNAL_TEST_ONLY_OPTARGS_TEST, 9, -1) == 0);
  CHECK_G (g, guestfs_internal_test_63_optargs (g, GUESTFS_INTERNAL_TEST_63_OPTARGS_OPT1, 1,
                                                GUESTFS_INTERNAL_TEST_63_OPTARGS_OPT63, 63, -1) == 0);
  CHECK (guestfs_internal_test_only_optargs (g, GUESTFS_INTERNAL_TEST_ONLY_OPTARGS_TEST, 1,
                                             GUESTFS_INTERNAL_TEST_ONLY_OPTARGS_TEST, 2, -1) == -1);
  CHECK_G (g, guestfs_last_errno (g) == EINVAL);
  CHECK_G (g, STRPREFIX (guestfs_last_error (g), "internal_test_only_optargs: "));
  CHECK_G (g, guestfs_internal_test_close_output (g) == 0);
  fd = open (tmpl, O_RDONLY);
  n = fd >= 0 ? read (fd, buf, sizeof buf - 1) : -1;
  buf[n > 0 ? n : 0] = 0;
  CHECK (STREQ (buf, "unset\n9\nopt1: 1\nopt63: 63\n"));
  if (!STREQ (buf, "unset\n9\nopt1: 1\nopt63: 63\n"))
    fprintf (stderr, "optargs tests wrote:\n%s", buf);
  if (fd >= 0) close (fd);
  unlink (tmpl);

  CHECK_G (g, guestfs_internal_test_rint (g, "10") == 10);
  CHECK (guestfs_internal_test_rinterr (g) == -1);
  CHECK_G (g, guestfs_internal_test_rint64 (g, "-12345678901") == -12345678901LL);
  CHECK (guestfs_internal_test_rint64err (g) == -1);
  CHECK_G (g, guestfs_internal_test_rbool (g, "true") == 1);
  CHECK_G (g, guestfs_internal_test_rbool (g, "false") == 0);
  CHECK (guestfs_internal_test_rboolerr (g) == -1);
  CHECK_G (g, STREQ (guestfs_internal_test_rconststring (g, "x"), "static string"));
  CHECK (guestfs_internal_test_rconststringerr (g) == NULL);

  s = guestfs_internal_test_rstring (g, "hello");
  CHECK_G (g, STREQ (s, "hello"));
  free (s);
  CHECK (guestfs_internal_test_rstringerr (g) == NULL);
  CHECK_G (g, STRPREFIX (guestfs_last_error (g), "internal_test_rstringerr: "));

  l = guestfs_internal_test_rstringlist (g, "3");
  CHECK_G (g, l != NULL);
  if (l) {
    CHECK (STREQ (l[0], "0") && STREQ (l[1], "1") && STREQ (l[2], "2") && l[3] == NULL);
    for (i = 0; l[i]; ++i) free (l[i]);
    free (l);
  }
  l = guestfs_internal_test_rstringlist (g, "0");
  CHECK_G (g, l != NULL && l[0] == NULL);
  free (l);

  l = guestfs_internal_test_rhashtable (g, "2");
  CHECK_G (g, l != NULL);
  if (l) {
    CHECK (STREQ (l[0], "0") && STREQ (l[1], "0") && STREQ (l[2], "1") && STREQ (l[3], "1") && l[4] == NULL);
    for (i = 0; l[i]; ++i) free (l[i]);
    free (l);
  }

  s = guestfs_internal_test_rbufferout (g, "buf", &len);
  CHECK_G (g, s != NULL && len == 3 && memcmp (s, "buf", 3) == 0);
  free (s);
  CHECK (guestfs_internal_test_rbufferouterr (g, &len) == NULL);

  pv = guestfs_internal_test_rstruct (g, "pv");
  CHECK_G (g, pv != NULL);
  if (pv) {
    CHECK (STREQ (pv->pv_name, "pv"));
    CHECK (memcmp (pv->pv_uuid, "12345678901234567890123456789012", 32) == 0);
    guestfs_free_lvm_pv (pv);
  }
  pvl = guestfs_internal_test_rstructlist (g, "3");
  CHECK_G (g, pvl != NULL);
  if (pvl) {
    CHECK (pvl->len == 3);
    CHECK (pvl->len == 3 && STREQ (pvl->val[2].pv_name, "2") && pvl->val[2].pv_size == 2);
    guestfs_free_lvm_pv_list (pvl);
  }
  CHECK (guestfs_internal_test_rstructlisterr (g) == NULL);

  guestfs_close (g);
}


int
main (void)
{
  test_internal ();
  return check_summary ("test-internal");
}

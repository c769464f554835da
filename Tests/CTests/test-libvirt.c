/* guestfs_add_domain and guestfs_add_libvirt_dom from C, over libvirt's
 * test driver (test:///DIR/node.xml: no libvirtd), without an appliance:
 * disk counts, optional arguments and error messages. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <guestfs.h>

#include "check.h"

static char dir[] = "/tmp/ctest-libvirt-XXXXXX";
static char uri[512];

static void
write_node (void)
{
  char path[256];
  FILE *f;

  snprintf (path, sizeof path, "%s/a.img", dir);
  f = fopen (path, "w");
  CHECK (f != NULL && ftruncate (fileno (f), 16 << 20) == 0);
  fclose (f);

  snprintf (path, sizeof path, "%s/node.xml", dir);
  f = fopen (path, "w");
  CHECK (f != NULL);
  fprintf (f,
    "<node>\n"
    " <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n"
    "  <name>off</name><memory>131072</memory><os><type>hvm</type></os>\n"
    "  <devices>\n"
    "   <disk type='file' device='disk'><driver name='qemu' type='raw'/>\n"
    "    <source file='%s/a.img'/><target dev='vda'/></disk>\n"
    "   <disk type='file' device='disk'><driver name='qemu' type='raw'/>\n"
    "    <source file='%s/a.img'/><target dev='vdb'/><readonly/></disk>\n"
    "  </devices>\n"
    "  <test:runstate>5</test:runstate>\n"
    " </domain>\n"
    " <domain type='test'>\n"
    "  <name>running</name><memory>131072</memory><os><type>hvm</type></os>\n"
    "  <devices>\n"
    "   <disk type='file' device='disk'><source file='%s/a.img'/><target dev='vda'/></disk>\n"
    "  </devices>\n"
    " </domain>\n"
    "</node>\n", dir, dir, dir);
  fclose (f);
  snprintf (uri, sizeof uri, "test://%s/node.xml", dir);
}

int
main (void)
{
  guestfs_h *g;
  const char *err;
  char cmd[600];

  if (mkdtemp (dir) == NULL) { perror ("mkdtemp"); return EXIT_FAILURE; }
  write_node ();

  g = guestfs_create ();
  CHECK (g != NULL);
  guestfs_push_error_handler (g, NULL, NULL);

  CHECK_G (g, guestfs_add_domain (g, "off", GUESTFS_ADD_DOMAIN_LIBVIRTURI, uri, -1) == 2);
  CHECK_G (g, guestfs_add_domain (g, "off", GUESTFS_ADD_DOMAIN_LIBVIRTURI, uri,
                                  GUESTFS_ADD_DOMAIN_READONLYDISK, "ignore", -1) == 1);
  CHECK_G (g, guestfs_add_domain (g, "running", GUESTFS_ADD_DOMAIN_LIBVIRTURI, uri,
                                  GUESTFS_ADD_DOMAIN_READONLY, 1, -1) == 1);

  CHECK (guestfs_add_domain (g, "running", GUESTFS_ADD_DOMAIN_LIBVIRTURI, uri, -1) == -1);
  err = guestfs_last_error (g);
  CHECK (err != NULL && strstr (err, "add_domain: ") == err && strstr (err, "is running") != NULL);

  CHECK (guestfs_add_domain (g, "nope", GUESTFS_ADD_DOMAIN_LIBVIRTURI, uri, -1) == -1);
  err = guestfs_last_error (g);
  CHECK (err != NULL && strstr (err, "no libvirt domain called 'nope'") != NULL);

  CHECK (guestfs_add_domain (g, "off", GUESTFS_ADD_DOMAIN_LIBVIRTURI, uri,
                             GUESTFS_ADD_DOMAIN_READONLYDISK, "error", -1) == -1);
  err = guestfs_last_error (g);
  CHECK (err != NULL && strstr (err, "<readonly/>") != NULL);

  CHECK (guestfs_add_domain (g, "off", GUESTFS_ADD_DOMAIN_LIBVIRTURI, uri,
                             GUESTFS_ADD_DOMAIN_LIVE, 1, -1) == -1);

  /* A virDomainPtr is needed for add_libvirt_dom; NULL is refused. */
  CHECK (guestfs_add_libvirt_dom (g, NULL, -1) == -1);

  guestfs_close (g);
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system (cmd) != 0) fprintf (stderr, "could not remove %s\n", dir);
  return check_summary ("test-libvirt");
}

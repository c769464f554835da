/* C API with a real appliance: make a disk, partition it, make a labelled
 * filesystem, write and read files, stat, list, error errno, events,
 * shutdown.  Written against the documented libguestfs API only. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <guestfs.h>

#include "check.h"

struct counts {
  int launch_done;
  int appliance;
  int trace;
  int progress;
  int close;
};

static void
count_event (guestfs_h *g, void *opaque, uint64_t event, int event_handle,
             int flags, const char *buf, size_t buf_len,
             const uint64_t *array, size_t array_len)
{
  struct counts *c = opaque;
  switch (event) {
  case GUESTFS_EVENT_LAUNCH_DONE: c->launch_done++; break;
  case GUESTFS_EVENT_APPLIANCE: c->appliance++; break;
  case GUESTFS_EVENT_TRACE: c->trace++; break;
  case GUESTFS_EVENT_PROGRESS: c->progress++; break;
  case GUESTFS_EVENT_CLOSE: c->close++; break;
  }
}

static int legacy_launch_done = 0;

static void
on_launch_done (guestfs_h *g, void *opaque)
{
  legacy_launch_done++;
}

static void
free_strings (char **l)
{
  size_t i;
  if (!l) return;
  for (i = 0; l[i] != NULL; ++i)
    free (l[i]);
  free (l);
}

int
main (void)
{
  char disk[] = "/tmp/ctests-diskXXXXXX";
  guestfs_h *g;
  struct counts c = { 0 };
  int fd, r, eh;
  char *s;
  size_t size;
  char **l;
  struct guestfs_statns *st;
  static const char content[] = "hello from C\n";
  const char *tracing = getenv ("CTESTS_TRACE");

  fd = mkstemp (disk);
  if (fd == -1) { perror ("mkstemp"); return EXIT_FAILURE; }
  close (fd);
  unlink (disk);

  g = guestfs_create ();
  if (g == NULL) { perror ("guestfs_create"); return EXIT_FAILURE; }

  eh = guestfs_set_event_callback (g, count_event,
                                   GUESTFS_EVENT_LAUNCH_DONE | GUESTFS_EVENT_APPLIANCE |
                                   GUESTFS_EVENT_TRACE | GUESTFS_EVENT_PROGRESS |
                                   GUESTFS_EVENT_CLOSE,
                                   0, &c);
  CHECK_G (g, eh >= 0);

  /* Verbose: the appliance's console output comes as APPLIANCE events
   * (to our callback, so nothing is printed). */
  CHECK_G (g, guestfs_set_verbose (g, 1) == 0);

  /* The libguestfs 1.0 callback API still works. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  guestfs_set_launch_done_callback (g, on_launch_done, NULL);
#pragma GCC diagnostic pop

  /* A 64 MiB raw disk. */
  r = guestfs_disk_create (g, disk, "raw", 64 * 1024 * 1024, -1);
  CHECK_G (g, r == 0);
  CHECK (access (disk, F_OK) == 0);

  r = guestfs_add_drive_opts (g, disk,
                              GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw",
                              -1);
  CHECK_G (g, r == 0);

  if (guestfs_launch (g) == -1) {
    fprintf (stderr, "test-appliance: launch failed: %s\n",
             guestfs_last_error (g) ? guestfs_last_error (g) : "(no message)");
    guestfs_close (g);
    unlink (disk);
    return EXIT_FAILURE;
  }
  CHECK (c.launch_done == 1);
  CHECK (legacy_launch_done == 1);
  CHECK (c.appliance > 0);
  CHECK_G (g, guestfs_set_verbose (g, 0) == 0);
  CHECK_G (g, guestfs_is_config (g) == 0);
#ifdef GUESTFS_HAVE_IS_READY
  CHECK_G (g, guestfs_is_ready (g) == 1);
#endif

  /* Devices. */
  l = guestfs_list_devices (g);
  CHECK_G (g, l != NULL && STREQ (l[0], "/dev/sda") && l[1] == NULL);
  free_strings (l);

  CHECK_G (g, guestfs_part_disk (g, "/dev/sda", "mbr") == 0);
  l = guestfs_list_partitions (g);
  CHECK_G (g, l != NULL && STREQ (l[0], "/dev/sda1") && l[1] == NULL);
  free_strings (l);

  CHECK_G (g, guestfs_mkfs_opts (g, "ext4", "/dev/sda1",
                                 GUESTFS_MKFS_OPTS_LABEL, "CTESTS",
                                 -1) == 0);
  s = guestfs_vfs_label (g, "/dev/sda1");
  CHECK_G (g, STREQ (s, "CTESTS"));
  free (s);
  s = guestfs_vfs_type (g, "/dev/sda1");
  CHECK_G (g, STREQ (s, "ext4"));
  free (s);

  CHECK_G (g, guestfs_mount (g, "/dev/sda1", "/") == 0);

  /* Write, read back two ways. */
  CHECK_G (g, guestfs_write (g, "/hello.txt", content, strlen (content)) == 0);
  s = guestfs_cat (g, "/hello.txt");
  CHECK_G (g, STREQ (s, content));
  free (s);
  s = guestfs_read_file (g, "/hello.txt", &size);
  CHECK_G (g, s != NULL && size == strlen (content) && memcmp (s, content, size) == 0);
  free (s);

  /* Binary data with NUL bytes survives. */
  CHECK_G (g, guestfs_write (g, "/bin.dat", "a\0b\0c", 5) == 0);
  s = guestfs_read_file (g, "/bin.dat", &size);
  CHECK_G (g, s != NULL && size == 5 && memcmp (s, "a\0b\0c", 5) == 0);
  free (s);

  CHECK_G (g, guestfs_mkdir (g, "/dir") == 0);
  CHECK_G (g, guestfs_touch (g, "/dir/empty") == 0);

  /* statns. */
  st = guestfs_statns (g, "/hello.txt");
  CHECK_G (g, st != NULL);
  if (st) {
    CHECK (st->st_size == (int64_t) strlen (content));
    CHECK ((st->st_mode & 0170000) == 0100000);  /* regular file */
    CHECK (st->st_nlink == 1);
    guestfs_free_statns (st);
  }
  CHECK_G (g, guestfs_is_dir (g, "/dir") == 1);
  CHECK_G (g, guestfs_is_file (g, "/dir") == 0);
  CHECK_G (g, guestfs_exists (g, "/nope") == 0);
  CHECK_G (g, guestfs_filesize (g, "/hello.txt") == (int64_t) strlen (content));

  /* ls (sorted, without . and ..). */
  l = guestfs_ls (g, "/");
  CHECK_G (g, l != NULL);
  if (l) {
    CHECK (STREQ (l[0], "bin.dat") && STREQ (l[1], "dir") && STREQ (l[2], "hello.txt") &&
           STREQ (l[3], "lost+found") && l[4] == NULL);
    free_strings (l);
  }

  /* Errors carry the errno from the appliance. */
  guestfs_push_error_handler (g, NULL, NULL);
  s = guestfs_cat (g, "/does/not/exist");
  CHECK (s == NULL);
  CHECK_G (g, guestfs_last_errno (g) == ENOENT);
  /* "FUNCTION: ...": cat is built on download, which reports it (as in
   * libguestfs), so accept either name. */
  CHECK_G (g, STRPREFIX (guestfs_last_error (g), "cat: ") ||
              STRPREFIX (guestfs_last_error (g), "download: "));
  CHECK_G (g, strstr (guestfs_last_error (g), "/does/not/exist") != NULL);
  CHECK (guestfs_mkdir (g, "/dir") == -1);
  CHECK_G (g, guestfs_last_errno (g) == EEXIST);
  CHECK (guestfs_rmdir (g, "/hello.txt") == -1);
  CHECK_G (g, guestfs_last_errno (g) == ENOTDIR);
  st = guestfs_statns (g, "/missing");
  CHECK (st == NULL);
  CHECK_G (g, guestfs_last_errno (g) == ENOENT);
  guestfs_pop_error_handler (g);

  /* Tracing reaches the callback. */
  CHECK_G (g, guestfs_set_trace (g, 1) == 0);
  CHECK_G (g, guestfs_exists (g, "/dir") == 1);
  CHECK_G (g, guestfs_set_trace (g, tracing != NULL) == 0);
  CHECK (c.trace >= 2);

  CHECK_G (g, guestfs_umount_all (g) == 0);
  CHECK_G (g, guestfs_shutdown (g) == 0);
  guestfs_close (g);
  CHECK (c.close == 1);

  /* The data is on the disk: read it back with a fresh read-only handle. */
  g = guestfs_create ();
  CHECK (g != NULL);
  CHECK_G (g, guestfs_add_drive_opts (g, disk,
                                      GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw",
                                      GUESTFS_ADD_DRIVE_OPTS_READONLY, 1,
                                      -1) == 0);
  if (guestfs_launch (g) == 0) {
    CHECK_G (g, guestfs_mount_ro (g, "/dev/sda1", "/") == 0);
    s = guestfs_cat (g, "/hello.txt");
    CHECK_G (g, STREQ (s, content));
    free (s);
    guestfs_push_error_handler (g, NULL, NULL);
    CHECK (guestfs_touch (g, "/ro") == -1);
    CHECK_G (g, guestfs_last_errno (g) == EROFS);
    guestfs_pop_error_handler (g);
    CHECK_G (g, guestfs_shutdown (g) == 0);
  }
  else
    CHECK_G (g, !"second launch");
  guestfs_close (g);

  unlink (disk);
  return check_summary ("test-appliance");
}

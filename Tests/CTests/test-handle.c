/* C API without an appliance: handles, properties, errors and error
 * handlers, private data, events, create_flags.  Written against the
 * documented libguestfs API only. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <guestfs.h>

#include "check.h"

/* --- error handlers ------------------------------------------------- */

struct err_log {
  int calls;
  char last[512];
  int errnum_seen;
};

static void
log_error (guestfs_h *g, void *opaque, const char *msg)
{
  struct err_log *log = opaque;
  log->calls++;
  snprintf (log->last, sizeof log->last, "%s", msg);
  /* The handler may ask for the errno. */
  log->errnum_seen = guestfs_last_errno (g);
}

static void
test_errors (void)
{
  guestfs_h *g = guestfs_create ();
  struct err_log log = { 0 }, log2 = { 0 };
  guestfs_error_handler_cb cb;
  void *opaque = (void *) 1;
  int r;

  CHECK (g != NULL);

  /* Nothing went wrong yet. */
  CHECK (guestfs_last_error (g) == NULL);
  CHECK (guestfs_last_errno (g) == 0);

  /* A default handler is installed. */
  cb = guestfs_get_error_handler (g, &opaque);
  CHECK (cb != NULL);

  guestfs_push_error_handler (g, log_error, &log);
  cb = guestfs_get_error_handler (g, &opaque);
  CHECK (cb == log_error);
  CHECK (opaque == &log);

  /* A missing disk image: ENOENT, message starts with the function. */
  r = guestfs_add_drive_opts (g, "/nonexistent/ctests/disk.img",
                              GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw",
                              GUESTFS_ADD_DRIVE_OPTS_READONLY, 1,
                              -1);
  CHECK (r == -1);
  CHECK_G (g, guestfs_last_errno (g) == ENOENT);
  CHECK_G (g, STRPREFIX (guestfs_last_error (g), "add_drive"));
  CHECK_G (g, strstr (guestfs_last_error (g), "/nonexistent/ctests/disk.img") != NULL);
  CHECK (log.calls == 1);
  CHECK (log.errnum_seen == ENOENT);
  CHECK (STREQ (log.last, guestfs_last_error (g)));
  /* No trailing newline. */
  CHECK (guestfs_last_error (g)[strlen (guestfs_last_error (g)) - 1] != '\n');

  /* Too small memsize: EINVAL. */
  CHECK (guestfs_set_memsize (g, 1) == -1);
  CHECK_G (g, guestfs_last_errno (g) == EINVAL);
  CHECK_G (g, STRPREFIX (guestfs_last_error (g), "set_memsize: "));
  CHECK (log.calls == 2);

  /* A daemon call before launch fails cleanly. */
  CHECK (guestfs_mkdir (g, "/foo") == -1);
  CHECK_G (g, STRPREFIX (guestfs_last_error (g), "mkdir: "));
  CHECK (log.calls == 3);

  /* NULL arguments are EINVAL errors, not crashes. */
  CHECK (guestfs_mkdir (g, NULL) == -1);
  CHECK_G (g, guestfs_last_errno (g) == EINVAL);
  CHECK_G (g, STRPREFIX (guestfs_last_error (g), "mkdir: "));
  CHECK (guestfs_cat (g, NULL) == NULL);
  CHECK_G (g, guestfs_last_errno (g) == EINVAL);
  CHECK (guestfs_add_drive_opts (g, NULL, -1) == -1);
  CHECK_G (g, guestfs_last_errno (g) == EINVAL);

  /* An unknown optional argument number (varargs, checked in C). */
  CHECK (guestfs_add_drive_opts (g, "/dev/null", 99, -1) == -1);
  CHECK_G (g, guestfs_last_errno (g) == EINVAL);
  CHECK_G (g, STRPREFIX (guestfs_last_error (g), "add_drive_opts: "));

  /* Push a NULL handler: errors are recorded but nobody is called. */
  r = log.calls;
  guestfs_push_error_handler (g, NULL, NULL);
  CHECK (guestfs_get_error_handler (g, NULL) == NULL);
  CHECK (guestfs_set_memsize (g, 2) == -1);
  CHECK (log.calls == r);
  CHECK_G (g, guestfs_last_errno (g) == EINVAL);

  /* A second handler on top. */
  guestfs_push_error_handler (g, log_error, &log2);
  CHECK (guestfs_set_memsize (g, 3) == -1);
  CHECK (log2.calls == 1 && log.calls == r);

  /* Pop back through the stack. */
  guestfs_pop_error_handler (g);          /* -> NULL handler */
  CHECK (guestfs_get_error_handler (g, NULL) == NULL);
  guestfs_pop_error_handler (g);          /* -> log */
  CHECK (guestfs_get_error_handler (g, &opaque) == log_error && opaque == &log);
  CHECK (guestfs_set_memsize (g, 4) == -1);
  CHECK (log.calls == r + 1);
  guestfs_pop_error_handler (g);          /* -> default */
  CHECK (guestfs_get_error_handler (g, NULL) == cb || guestfs_get_error_handler (g, NULL) != NULL);
  guestfs_pop_error_handler (g);          /* too many pops: still default */
  CHECK (guestfs_get_error_handler (g, NULL) != NULL);

  /* set_error_handler (NULL) disables printing. */
  guestfs_set_error_handler (g, NULL, NULL);
  CHECK (guestfs_get_error_handler (g, NULL) == NULL);
  CHECK (guestfs_set_memsize (g, 5) == -1);
  CHECK (guestfs_last_error (g) != NULL);

  /* A successful call leaves the last error alone. */
  CHECK (guestfs_set_memsize (g, 600) == 0);
  CHECK (guestfs_last_error (g) != NULL);

  /* The out-of-memory handler: a default exists; NULL is refused. */
  CHECK (guestfs_get_out_of_memory_handler (g) != NULL);
  guestfs_set_out_of_memory_handler (g, abort);
  CHECK (guestfs_get_out_of_memory_handler (g) == abort);
  guestfs_set_out_of_memory_handler (g, NULL);
  CHECK (guestfs_get_out_of_memory_handler (g) == abort);

  guestfs_close (g);
}

/* --- properties ---------------------------------------------------- */

static void
test_properties (void)
{
  guestfs_h *g = guestfs_create_flags (GUESTFS_CREATE_NO_ENVIRONMENT);
  const char *p1, *p2;
  char **list;
  size_t i;

  CHECK (g != NULL);
  CHECK_G (g, guestfs_set_memsize (g, 700) == 0);
  CHECK_G (g, guestfs_get_memsize (g) == 700);
  CHECK_G (g, guestfs_set_smp (g, 2) == 0);
  CHECK_G (g, guestfs_get_smp (g) == 2);
  CHECK_G (g, guestfs_set_verbose (g, 0) == 0);
  CHECK_G (g, guestfs_get_verbose (g) == 0);
  CHECK_G (g, guestfs_set_autosync (g, 1) == 0);
  CHECK_G (g, guestfs_get_autosync (g) == 1);
  CHECK_G (g, guestfs_is_config (g) == 1);
  /* Public in libguestfs; (currently) only with GUESTFS_PRIVATE here. */
#ifdef GUESTFS_HAVE_GET_STATE
  CHECK_G (g, guestfs_get_state (g) == 0);
#endif
#ifdef GUESTFS_HAVE_IS_READY
  CHECK_G (g, guestfs_is_ready (g) == 0);
#endif

  /* RConstString results stay valid. */
  CHECK_G (g, guestfs_set_program (g, "first") == 0);
  p1 = guestfs_get_program (g);
  CHECK_G (g, STREQ (p1, "first"));
  CHECK_G (g, guestfs_set_program (g, "second") == 0);
  p2 = guestfs_get_program (g);
  CHECK_G (g, STREQ (p2, "second"));
  CHECK (STREQ (p1, "first"));

  /* RConstOptString: NULL is not an error. */
  CHECK_G (g, guestfs_set_append (g, NULL) == 0);
  CHECK (guestfs_get_append (g) == NULL);
  CHECK_G (g, guestfs_set_append (g, "console=ttyS0") == 0);
  CHECK_G (g, STREQ (guestfs_get_append (g), "console=ttyS0"));

  /* RStringList (returned list is the caller's to free). */
  CHECK_G (g, guestfs_set_backend_settings (g, (char *[]) { "a", "b=1", NULL }) == 0);
  list = guestfs_get_backend_settings (g);
  CHECK_G (g, list != NULL);
  if (list) {
    CHECK (STREQ (list[0], "a") && STREQ (list[1], "b=1") && list[2] == NULL);
    for (i = 0; list[i] != NULL; ++i)
      free (list[i]);
    free (list);
  }

  /* RString. */
  {
    char *s = guestfs_get_backend_setting (g, "b");
    CHECK_G (g, STREQ (s, "1"));
    free (s);
  }

  /* Struct return: version. */
  {
    struct guestfs_version *v = guestfs_version (g);
    CHECK_G (g, v != NULL);
    if (v) {
      CHECK (v->major == 1);
      CHECK (v->minor >= 48);
      guestfs_free_version (v);
    }
  }

  guestfs_close (g);
}

/* --- environment and create_flags --------------------------------- */

static void
test_create_flags (void)
{
  guestfs_h *g;

  setenv ("LIBGUESTFS_MEMSIZE", "777", 1);

  g = guestfs_create ();
  CHECK (g != NULL);
  CHECK_G (g, guestfs_get_memsize (g) == 777);
  guestfs_close (g);

  g = guestfs_create_flags (GUESTFS_CREATE_NO_ENVIRONMENT);
  CHECK (g != NULL);
  CHECK_G (g, guestfs_get_memsize (g) != 777);
  CHECK_G (g, guestfs_parse_environment (g) == 0);
  CHECK_G (g, guestfs_get_memsize (g) == 777);
  guestfs_close (g);

  g = guestfs_create_flags (GUESTFS_CREATE_NO_ENVIRONMENT | GUESTFS_CREATE_NO_CLOSE_ON_EXIT);
  CHECK (g != NULL);
  guestfs_close (g);

  /* Unknown flags are refused with EINVAL. */
  errno = 0;
  g = guestfs_create_flags (1u << 20);
  CHECK (g == NULL);
  CHECK (errno == EINVAL);

  unsetenv ("LIBGUESTFS_MEMSIZE");
}

/* --- private data ------------------------------------------------- */

static void
test_private (void)
{
  guestfs_h *g = guestfs_create ();
  int a = 1, b = 2, c = 3;
  const char *key;
  void *data;
  int n, seen_a = 0, seen_b = 0, seen_c = 0;

  CHECK (guestfs_get_private (g, "ctest_a") == NULL);
  CHECK (guestfs_first_private (g, &key) == NULL);

  guestfs_set_private (g, "ctest_a", &a);
  guestfs_set_private (g, "ctest_b", &b);
  guestfs_set_private (g, "other_c", &c);
  CHECK (guestfs_get_private (g, "ctest_a") == &a);
  CHECK (guestfs_get_private (g, "ctest_b") == &b);
  guestfs_set_private (g, "ctest_b", &c);           /* overwrite */
  CHECK (guestfs_get_private (g, "ctest_b") == &c);
  guestfs_set_private (g, "ctest_b", &b);

  n = 0;
  for (data = guestfs_first_private (g, &key); data != NULL;
       data = guestfs_next_private (g, &key)) {
    n++;
    if (STREQ (key, "ctest_a") && data == &a) seen_a++;
    if (STREQ (key, "ctest_b") && data == &b) seen_b++;
    if (STREQ (key, "other_c") && data == &c) seen_c++;
  }
  CHECK (n == 3 && seen_a == 1 && seen_b == 1 && seen_c == 1);

  /* Deleting while walking, restarting each time (the documented idiom;
   * passes our own key pointer back in). */
 again:
  for (data = guestfs_first_private (g, &key); data != NULL;
       data = guestfs_next_private (g, &key)) {
    if (strncmp (key, "ctest_", 6) == 0) {
      guestfs_set_private (g, key, NULL);
      goto again;
    }
  }
  CHECK (guestfs_get_private (g, "ctest_a") == NULL);
  CHECK (guestfs_get_private (g, "ctest_b") == NULL);
  CHECK (guestfs_get_private (g, "other_c") == &c);
  data = guestfs_first_private (g, &key);
  CHECK (data == &c && STREQ (key, "other_c"));
  CHECK (guestfs_next_private (g, &key) == NULL);

  guestfs_close (g);
}

/* --- events -------------------------------------------------------- */

struct ev_log {
  int close_calls;
  int trace_calls;
  int enter_calls;
  int saw_get_memsize_trace;
  int legacy_close_calls;
  guestfs_h *g_seen;
};

static void
on_event (guestfs_h *g, void *opaque, uint64_t event, int event_handle,
          int flags, const char *buf, size_t buf_len,
          const uint64_t *array, size_t array_len)
{
  struct ev_log *log = opaque;
  log->g_seen = g;
  if (event == GUESTFS_EVENT_CLOSE)
    log->close_calls++;
  else if (event == GUESTFS_EVENT_TRACE) {
    log->trace_calls++;
    if (buf_len >= 11 && memcmp (buf, "get_memsize", 11) == 0)
      log->saw_get_memsize_trace++;
  }
  else if (event == GUESTFS_EVENT_ENTER)
    log->enter_calls++;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static void
on_legacy_close (guestfs_h *g, void *opaque)
{
  ((struct ev_log *) opaque)->legacy_close_calls++;
}
#pragma GCC diagnostic pop

static void
test_events (void)
{
  guestfs_h *g = guestfs_create_flags (GUESTFS_CREATE_NO_ENVIRONMENT);
  struct ev_log log = { 0 };
  int eh_close, eh_trace, eh_enter;
  char *s;

  s = guestfs_event_to_string (GUESTFS_EVENT_CLOSE);
  CHECK (STREQ (s, "close"));
  free (s);
  s = guestfs_event_to_string (GUESTFS_EVENT_CLOSE | GUESTFS_EVENT_PROGRESS);
  CHECK (STREQ (s, "close,progress"));
  free (s);
  s = guestfs_event_to_string (0);
  CHECK (STREQ (s, ""));
  free (s);
  s = guestfs_event_to_string (GUESTFS_EVENT_ALL);
  CHECK (s != NULL && strstr (s, "appliance") != NULL && strstr (s, "warning") != NULL);
  free (s);

  eh_close = guestfs_set_event_callback (g, on_event, GUESTFS_EVENT_CLOSE, 0, &log);
  eh_trace = guestfs_set_event_callback (g, on_event, GUESTFS_EVENT_TRACE, 0, &log);
  eh_enter = guestfs_set_event_callback (g, on_event, GUESTFS_EVENT_ENTER, 0, &log);
  CHECK_G (g, eh_close >= 0 && eh_trace >= 0 && eh_enter >= 0);
  CHECK (eh_close != eh_trace && eh_trace != eh_enter);

  /* flags must be 0. */
  guestfs_push_error_handler (g, NULL, NULL);
  CHECK (guestfs_set_event_callback (g, on_event, GUESTFS_EVENT_CLOSE, 1, &log) == -1);
  CHECK_G (g, STRPREFIX (guestfs_last_error (g), "set_event_callback: "));
  guestfs_pop_error_handler (g);

  /* Trace messages go to the callback (and not to stderr). */
  CHECK_G (g, guestfs_set_trace (g, 1) == 0);
  CHECK_G (g, guestfs_get_trace (g) == 1);
  CHECK_G (g, guestfs_get_memsize (g) > 0);
  CHECK (log.trace_calls >= 2);           /* the call and its result */
  CHECK (log.saw_get_memsize_trace >= 2);
  CHECK (log.enter_calls >= 2);
  CHECK (log.g_seen == g);
  CHECK_G (g, guestfs_set_trace (g, 0) == 0);

  /* Deleted callbacks are no longer called. */
  guestfs_delete_event_callback (g, eh_enter);
  log.enter_calls = 0;
  CHECK_G (g, guestfs_get_memsize (g) > 0);
  CHECK (log.enter_calls == 0);

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  guestfs_set_close_callback (g, on_legacy_close, &log);
  guestfs_set_close_callback (g, on_legacy_close, &log); /* replaces */
#pragma GCC diagnostic pop

  guestfs_close (g);
  CHECK (log.close_calls == 1);
  CHECK (log.legacy_close_calls == 1);
}

int
main (void)
{
  test_errors ();
  test_properties ();
  test_create_flags ();
  test_private ();
  test_events ();

  /* Misuse never crashes. */
  CHECK (guestfs_last_error (NULL) == NULL);
  CHECK (guestfs_set_memsize (NULL, 500) == -1);
  guestfs_close (NULL);

  return check_summary ("test-handle");
}

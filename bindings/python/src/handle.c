/* swift-guestfs Python binding: the hand-written half of `libguestfsmod`.
 *
 * The generated actions.c holds one wrapper per action and the method
 * table; this file holds what those wrappers call (handle lookup, string
 * and list conversions, error raising) plus the handle lifecycle, event
 * callbacks and the module initialisation.
 *
 * A handle is a PyCapsule named "guestfs_h" whose pointer is the
 * guestfs_h * (as in libguestfs's own binding) and whose context is a
 * struct py_handle: that context records whether the handle has been
 * closed and owns the references to the Python event callbacks.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"

#define CAPSULE_NAME "guestfs_h"

struct py_callback {
  int event_handle;
  int deleted;                  /* set by delete_event_callback */
  PyObject *callable;           /* strong reference, dropped after close */
};

struct py_handle {
  guestfs_h *g;                 /* NULL once closed */
  struct py_callback **callbacks;
  size_t ncallbacks;
};

/* ------------------------------------------------------------------ */
/* Interpreter state. */

static int
interpreter_is_finalizing (void)
{
#if PY_VERSION_HEX >= 0x030d0000
  return Py_IsFinalizing ();
#else
  return _Py_IsFinalizing ();
#endif
}

/* ------------------------------------------------------------------ */
/* Handles. */

static struct py_handle *
get_context (PyObject *obj)
{
  struct py_handle *h;

  if (obj == NULL || obj == Py_None || !PyCapsule_IsValid (obj, CAPSULE_NAME)) {
    PyErr_SetString (PyExc_TypeError,
                     "expecting a libguestfs handle (a guestfs_h capsule made by libguestfsmod.create)");
    return NULL;
  }
  h = PyCapsule_GetContext (obj);
  if (h == NULL) {
    if (!PyErr_Occurred ())
      PyErr_SetString (PyExc_TypeError, "libguestfs handle capsule has no context");
    return NULL;
  }
  return h;
}

/* Raise guestfs.ClosedHandle if the guestfs module is loaded, else
 * ValueError (ClosedHandle derives from ValueError). */
static void
raise_closed (void)
{
  PyObject *exc_type = NULL, *mod = NULL, *name;

  name = PyUnicode_FromString ("guestfs");
  if (name != NULL) {
    mod = PyImport_GetModule (name);    /* NULL if not imported */
    Py_DECREF (name);
  }
  PyErr_Clear ();
  if (mod != NULL) {
    exc_type = PyObject_GetAttrString (mod, "ClosedHandle");
    Py_DECREF (mod);
    PyErr_Clear ();
    if (exc_type != NULL &&
        !(PyType_Check (exc_type) &&
          PyType_IsSubtype ((PyTypeObject *) exc_type, (PyTypeObject *) PyExc_Exception))) {
      Py_DECREF (exc_type);
      exc_type = NULL;
    }
  }
  PyErr_SetString (exc_type ? exc_type : PyExc_ValueError,
                   "GuestFS: method called on closed handle");
  Py_XDECREF (exc_type);
}

guestfs_h *
guestfs_int_py_get_handle (PyObject *obj)
{
  struct py_handle *h = get_context (obj);

  if (h == NULL)
    return NULL;
  if (h->g == NULL) {
    raise_closed ();
    return NULL;
  }
  return h->g;
}

/* Drop every callback reference.  Only called once the handle is closed,
 * when the library can no longer call any of them. */
static void
free_callbacks (struct py_handle *h)
{
  size_t i;

  for (i = 0; i < h->ncallbacks; ++i) {
    Py_XDECREF (h->callbacks[i]->callable);
    free (h->callbacks[i]);
  }
  free (h->callbacks);
  h->callbacks = NULL;
  h->ncallbacks = 0;
}

/* Close the handle in h (if still open) and free the callback references.
 * Called with the GIL held; releases it around guestfs_close unless the
 * interpreter is shutting down, since close may take a while (appliance
 * shutdown) and may emit events from other threads. */
static void
close_context (struct py_handle *h)
{
  guestfs_h *g = h->g;

  if (g == NULL)
    return;
  h->g = NULL;

  if (!interpreter_is_finalizing ()) {
    Py_BEGIN_ALLOW_THREADS
    guestfs_close (g);
    Py_END_ALLOW_THREADS
  }
  else
    guestfs_close (g);

  free_callbacks (h);
}

static void
capsule_destructor (PyObject *capsule)
{
  struct py_handle *h = PyCapsule_GetContext (capsule);

  if (h == NULL) {
    PyErr_Clear ();
    return;
  }
  /* The handle is unreachable from Python now: close it rather than leak
   * it (GuestFS.__del__ normally closed it already). */
  close_context (h);
  free (h);
}

PyObject *
guestfs_int_py_create (PyObject *self, PyObject *args)
{
  unsigned int flags = 0;
  guestfs_h *g;
  struct py_handle *h;
  PyObject *capsule;

  (void) self;
  if (!PyArg_ParseTuple (args, (char *) "|I:guestfs_create", &flags))
    return NULL;

  h = calloc (1, sizeof *h);
  if (h == NULL)
    return PyErr_NoMemory ();

  Py_BEGIN_ALLOW_THREADS
  g = guestfs_create_flags (flags);
  Py_END_ALLOW_THREADS

  if (g == NULL) {
    int err = errno;
    free (h);
    PyErr_Format (PyExc_RuntimeError, "guestfs_create: failed to create handle: %s",
                  err ? strerror (err) : "unknown error");
    return NULL;
  }

  /* Errors are reported through exceptions; don't also print them. */
  guestfs_set_error_handler (g, NULL, NULL);

  h->g = g;
  capsule = PyCapsule_New ((void *) g, CAPSULE_NAME, capsule_destructor);
  if (capsule == NULL) {
    guestfs_close (g);
    free (h);
    return NULL;
  }
  if (PyCapsule_SetContext (capsule, h) == -1) {
    /* The destructor sees no context and does nothing. */
    Py_DECREF (capsule);
    guestfs_close (g);
    free (h);
    return NULL;
  }
  return capsule;
}

PyObject *
guestfs_int_py_close (PyObject *self, PyObject *args)
{
  PyObject *py_g;
  struct py_handle *h;

  (void) self;
  if (!PyArg_ParseTuple (args, (char *) "O:guestfs_close", &py_g))
    return NULL;
  h = get_context (py_g);
  if (h == NULL)
    return NULL;

  /* Closing twice is harmless. */
  close_context (h);

  Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ */
/* Events. */

/* Called by the library, possibly from one of its own threads and with
 * or without the GIL held by this thread. */
static void
event_callback_trampoline (guestfs_h *g, void *opaque, uint64_t event, int event_handle,
                           int flags, const char *buf, size_t buf_len,
                           const uint64_t *array, size_t array_len)
{
  struct py_callback *cb = opaque;
  PyGILState_STATE state;
  PyObject *py_array = NULL, *py_buf = NULL, *py_args = NULL, *py_r;
  size_t i;

  (void) g;
  (void) flags;

  /* After (or during) interpreter shutdown there is nobody to call. */
  if (!Py_IsInitialized () || interpreter_is_finalizing ())
    return;

  state = PyGILState_Ensure ();

  if (cb->callable == NULL || cb->deleted)
    goto out;

  py_array = PyList_New ((Py_ssize_t) array_len);
  if (py_array == NULL)
    goto error;
  for (i = 0; i < array_len; ++i) {
    PyObject *a = PyLong_FromUnsignedLongLong (array[i]);
    if (a == NULL)
      goto error;
    PyList_SET_ITEM (py_array, (Py_ssize_t) i, a);
  }

  py_buf = PyBytes_FromStringAndSize (buf ? buf : "", buf ? (Py_ssize_t) buf_len : 0);
  if (py_buf == NULL)
    goto error;

  py_args = Py_BuildValue ("(KiOO)", (unsigned long long) event, event_handle, py_buf, py_array);
  if (py_args == NULL)
    goto error;

  /* Keep the callable alive across the call even if it deletes itself. */
  {
    PyObject *callable = cb->callable;
    Py_INCREF (callable);
    py_r = PyObject_CallObject (callable, py_args);
    Py_DECREF (callable);
  }
  if (py_r == NULL)
    goto error;
  Py_DECREF (py_r);
  goto out;

 error:
  /* An exception in a callback cannot propagate into the library: print it. */
  PyErr_PrintEx (0);
 out:
  Py_XDECREF (py_args);
  Py_XDECREF (py_buf);
  Py_XDECREF (py_array);
  PyGILState_Release (state);
}

PyObject *
guestfs_int_py_set_event_callback (PyObject *self, PyObject *args)
{
  PyObject *py_g, *py_callable;
  unsigned long long events;
  struct py_handle *h;
  struct py_callback *cb, **cbs;
  guestfs_h *g;
  int eh;

  (void) self;
  if (!PyArg_ParseTuple (args, (char *) "OOK:guestfs_set_event_callback",
                         &py_g, &py_callable, &events))
    return NULL;
  g = guestfs_int_py_get_handle (py_g);
  if (g == NULL)
    return NULL;
  h = PyCapsule_GetContext (py_g);

  if (!PyCallable_Check (py_callable)) {
    PyErr_SetString (PyExc_TypeError,
                     "callback parameter is not callable (eg. lambda or function)");
    return NULL;
  }

  cb = calloc (1, sizeof *cb);
  if (cb == NULL)
    return PyErr_NoMemory ();
  cbs = realloc (h->callbacks, (h->ncallbacks + 1) * sizeof *cbs);
  if (cbs == NULL) {
    free (cb);
    return PyErr_NoMemory ();
  }
  h->callbacks = cbs;

  Py_INCREF (py_callable);
  cb->callable = py_callable;

  eh = guestfs_set_event_callback (g, event_callback_trampoline, (uint64_t) events, 0, cb);
  if (eh == -1) {
    Py_DECREF (py_callable);
    free (cb);
    guestfs_int_py_raise (g);
    return NULL;
  }
  cb->event_handle = eh;
  h->callbacks[h->ncallbacks++] = cb;

  return PyLong_FromLong ((long) eh);
}

PyObject *
guestfs_int_py_delete_event_callback (PyObject *self, PyObject *args)
{
  PyObject *py_g;
  int eh;
  guestfs_h *g;
  struct py_handle *h;
  size_t i;

  (void) self;
  if (!PyArg_ParseTuple (args, (char *) "Oi:guestfs_delete_event_callback", &py_g, &eh))
    return NULL;
  g = guestfs_int_py_get_handle (py_g);
  if (g == NULL)
    return NULL;
  h = PyCapsule_GetContext (py_g);

  guestfs_delete_event_callback (g, eh);

  /* The library might still be delivering an event to this callback on
   * another thread, so the record (and the reference) is kept until the
   * handle is closed; it is only marked dead here. */
  for (i = 0; i < h->ncallbacks; ++i) {
    if (!h->callbacks[i]->deleted && h->callbacks[i]->event_handle == eh) {
      h->callbacks[i]->deleted = 1;
      break;
    }
  }

  Py_RETURN_NONE;
}

PyObject *
guestfs_int_py_event_to_string (PyObject *self, PyObject *args)
{
  unsigned long long events;
  char *str;
  PyObject *py_r;

  (void) self;
  if (!PyArg_ParseTuple (args, (char *) "K:guestfs_event_to_string", &events))
    return NULL;

  errno = 0;
  str = guestfs_event_to_string ((uint64_t) events);
  if (str == NULL) {
    PyErr_Format (PyExc_RuntimeError, "guestfs_event_to_string: %s",
                  errno ? strerror (errno) : "failed");
    return NULL;
  }
  py_r = guestfs_int_py_fromstring (str);
  free (str);
  return py_r;
}

/* ------------------------------------------------------------------ */
/* Conversions used by the generated wrappers. */

/* A list or tuple of str (or bytes) -> a NULL-terminated array of
 * malloc'd copies.  Copies, because the GIL is released during the call
 * and another thread could change the list meanwhile. */
char **
guestfs_int_py_get_string_list (PyObject *obj)
{
  Py_ssize_t i, len;
  char **r;

  if (obj == NULL) {
    PyErr_SetString (PyExc_TypeError, "expecting a list parameter");
    return NULL;
  }
  if (!PyList_Check (obj) && !PyTuple_Check (obj)) {
    PyErr_Format (PyExc_TypeError, "expecting a list or tuple of strings, got %s",
                  Py_TYPE (obj)->tp_name);
    return NULL;
  }

  len = PySequence_Size (obj);
  if (len < 0)
    return NULL;
  r = calloc ((size_t) len + 1, sizeof (char *));
  if (r == NULL) {
    PyErr_NoMemory ();
    return NULL;
  }

  for (i = 0; i < len; ++i) {
    PyObject *item = PyList_Check (obj) ? PyList_GET_ITEM (obj, i) : PyTuple_GET_ITEM (obj, i);
    const char *s;
    Py_ssize_t slen;

    if (PyUnicode_Check (item)) {
      s = PyUnicode_AsUTF8AndSize (item, &slen);
      if (s == NULL)
        goto err;
    }
    else if (PyBytes_Check (item)) {
      s = PyBytes_AS_STRING (item);
      slen = PyBytes_GET_SIZE (item);
    }
    else {
      PyErr_Format (PyExc_TypeError, "expecting a list of strings, but item %zd is %s",
                    i, Py_TYPE (item)->tp_name);
      goto err;
    }
    if ((Py_ssize_t) strlen (s) != slen) {
      PyErr_Format (PyExc_ValueError, "string list item %zd contains an embedded null character", i);
      goto err;
    }
    r[i] = strdup (s);
    if (r[i] == NULL) {
      PyErr_NoMemory ();
      goto err;
    }
  }
  r[len] = NULL;
  return r;

 err:
  guestfs_int_py_free_string_list (r);
  return NULL;
}

void
guestfs_int_py_free_string_list (char **argv)
{
  size_t i;

  if (argv == NULL)
    return;
  for (i = 0; argv[i] != NULL; ++i)
    free (argv[i]);
  free (argv);
}

PyObject *
guestfs_int_py_put_string_list (char * const * const argv)
{
  PyObject *list;
  size_t argc, i;

  for (argc = 0; argv[argc] != NULL; ++argc)
    ;

  list = PyList_New ((Py_ssize_t) argc);
  if (list == NULL)
    return NULL;
  for (i = 0; i < argc; ++i) {
    PyObject *item = guestfs_int_py_fromstring (argv[i]);
    if (item == NULL) {
      Py_DECREF (list);
      return NULL;
    }
    PyList_SET_ITEM (list, (Py_ssize_t) i, item);
  }
  return list;
}

/* A hashtable (key, value, key, value, ..., NULL) -> list of (key, value)
 * tuples; GuestFS(python_return_dict=True) turns that into a dict. */
PyObject *
guestfs_int_py_put_table (char * const * const argv)
{
  PyObject *list;
  size_t argc, i;

  for (argc = 0; argv[argc] != NULL; ++argc)
    ;
  if (argc % 2 != 0) {
    PyErr_SetString (PyExc_RuntimeError, "libguestfs returned a hashtable with an odd number of elements");
    return NULL;
  }

  list = PyList_New ((Py_ssize_t) (argc / 2));
  if (list == NULL)
    return NULL;
  for (i = 0; i < argc; i += 2) {
    PyObject *key, *value, *item;

    key = guestfs_int_py_fromstring (argv[i]);
    if (key == NULL)
      goto err;
    value = guestfs_int_py_fromstring (argv[i+1]);
    if (value == NULL) {
      Py_DECREF (key);
      goto err;
    }
    item = PyTuple_Pack (2, key, value);
    Py_DECREF (key);
    Py_DECREF (value);
    if (item == NULL)
      goto err;
    PyList_SET_ITEM (list, (Py_ssize_t) (i / 2), item);
  }
  return list;

 err:
  Py_DECREF (list);
  return NULL;
}

/* C string -> str.  Valid UTF-8 decodes as usual; invalid bytes become
 * lone surrogates (as os.fsdecode does), so odd guest file names still
 * round-trip instead of raising. */
PyObject *
guestfs_int_py_fromstring (const char *str)
{
  if (str == NULL)
    return PyUnicode_FromString ("");
  return PyUnicode_DecodeUTF8 (str, (Py_ssize_t) strlen (str), "surrogateescape");
}

PyObject *
guestfs_int_py_fromstringsize (const char *str, size_t size)
{
  if (str == NULL)
    return PyUnicode_FromString ("");
  return PyUnicode_DecodeUTF8 (str, (Py_ssize_t) size, "surrogateescape");
}

/* Raise RuntimeError(message) for the last error on g, with the error's
 * errno (or None) in the exception's `errno` attribute. */
void
guestfs_int_py_raise (guestfs_h *g)
{
  const char *msg = g ? guestfs_last_error (g) : NULL;
  int errnum = g ? guestfs_last_errno (g) : 0;
  PyObject *py_msg, *exc, *py_errno;

  py_msg = guestfs_int_py_fromstring (msg ? msg : "unknown error");
  if (py_msg == NULL)
    return;
  exc = PyObject_CallFunctionObjArgs (PyExc_RuntimeError, py_msg, NULL);
  Py_DECREF (py_msg);
  if (exc == NULL)
    return;

  if (errnum > 0)
    py_errno = PyLong_FromLong (errnum);
  else {
    Py_INCREF (Py_None);
    py_errno = Py_None;
  }
  if (py_errno == NULL || PyObject_SetAttrString (exc, "errno", py_errno) == -1)
    PyErr_Clear ();             /* the attribute is a bonus; the message matters */
  Py_XDECREF (py_errno);

  PyErr_SetObject (PyExc_RuntimeError, exc);
  Py_DECREF (exc);
}

/* ------------------------------------------------------------------ */
/* The module. */

static struct PyModuleDef moduledef = {
  PyModuleDef_HEAD_INIT,
  "libguestfsmod",                              /* m_name */
  "swift-guestfs C extension used by the guestfs module", /* m_doc */
  -1,                                           /* m_size */
  guestfs_int_py_methods,                       /* m_methods */
  NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_libguestfsmod (void);

PyMODINIT_FUNC
PyInit_libguestfsmod (void)
{
  PyObject *m = PyModule_Create (&moduledef);

  if (m == NULL)
    return NULL;
  if (PyModule_AddIntConstant (m, "GUESTFS_CREATE_NO_ENVIRONMENT", GUESTFS_CREATE_NO_ENVIRONMENT) == -1 ||
      PyModule_AddIntConstant (m, "GUESTFS_CREATE_NO_CLOSE_ON_EXIT", GUESTFS_CREATE_NO_CLOSE_ON_EXIT) == -1) {
    Py_DECREF (m);
    return NULL;
  }
  return m;
}

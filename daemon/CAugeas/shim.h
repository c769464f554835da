/* libaugeas (Debian libaugeas-dev) for the daemon's aug_* actions. Its
 * header pulls in libxml2's tree.h, found through augeas.pc's cflags. */
#include <augeas.h>

/* libhivex (Debian libhivex-dev) for the daemon's hivex_* actions and the
 * Windows inspection probe. */
#include <hivex.h>

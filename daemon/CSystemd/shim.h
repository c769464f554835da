/* libsystemd's sd-journal API (Debian libsystemd-dev) for the journal_*
 * actions. Its own dependencies (libgcrypt, liblzma, libzstd, libcap) are
 * already loaded for librpm, so linking it costs the daemon little. */
#include <systemd/sd-journal.h>

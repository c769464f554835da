/* librpm (Debian librpm-dev) for reading guests' RPM databases
 * (internal_list_rpm_applications). */
#include <rpm/rpmlib.h>
#include <rpm/rpmts.h>
#include <rpm/rpmdb.h>
#include <rpm/header.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmtag.h>

/* Macros Swift cannot import. */
static inline rpmVSFlags guestfs_rpm_no_checks(void) {
    return RPMVSF_MASK_NODIGESTS | RPMVSF_MASK_NOSIGNATURES;
}
static inline void guestfs_rpm_errors_only(void) {
    rpmSetVerbosity(RPMLOG_ERR);
}

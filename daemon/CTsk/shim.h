/* The Sleuth Kit's C API (Debian libtsk-dev), types only: the daemon does not
 * link libtsk (it drags in some forty libraries, curl and Kerberos among
 * them, which would slow every appliance start). SleuthKit.swift dlopens
 * libtsk.so.19 the first time filesystem_walk or find_inode needs it. */
#include <tsk/libtsk.h>

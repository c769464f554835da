// guestfsd: the daemon that runs inside the appliance. Everything lives in
// GuestfsDaemonCore (daemon/Core) so tests can reach it.

import GuestfsDaemonCore

GuestfsDaemonMain.run(arguments: CommandLine.arguments)

/* Stand-in for the Swift guestfsd daemon, used to test/bench the appliance.
 *
 * Runs as PID 1 inside the appliance (supermin's init chroots into the ext2
 * root and execs /init, which is a symlink to /usr/sbin/guestfsd).
 *
 *  - mounts /proc, /sys, /dev (devtmpfs)
 *  - loads virtio_console if the port is not there yet (supermin's initrd
 *    already inserts every virtio*.ko, so normally nothing to do)
 *  - finds the virtio-serial port named org.libguestfs.channel.0 through
 *    /sys/class/virtio-ports/<vportNpM>/name
 *  - opens /dev/vportNpM, writes the 4-byte big-endian launch flag 0xF5F55FF5
 *  - then echoes whatever the host sends; on EOF / "quit" powers off.
 *
 * Build: gcc -O2 -static -o guestfsd fake-guestfsd.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define CHANNEL "org.libguestfs.channel.0"

static void logmsg(const char *fmt, const char *arg)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    fprintf(stderr, "[%5ld.%06ld] guestfsd-standin: ", (long)ts.tv_sec,
            ts.tv_nsec / 1000);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
}

static void do_mount(const char *src, const char *dst, const char *type)
{
    mkdir(dst, 0755);
    if (mount(src, dst, type, 0, NULL) == -1 && errno != EBUSY)
        logmsg("mount %s failed", dst);
}

/* Returns malloc'd "/dev/vportNpM" or NULL. */
static char *find_port(void)
{
    DIR *d = opendir("/sys/class/virtio-ports");
    if (!d)
        return NULL;
    struct dirent *e;
    char *result = NULL;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[512], name[256];
        snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name",
                 e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, name, sizeof name - 1);
        close(fd);
        if (n <= 0)
            continue;
        name[n] = 0;
        if (name[n - 1] == '\n')
            name[n - 1] = 0;
        if (strcmp(name, CHANNEL) == 0) {
            if (asprintf(&result, "/dev/%s", e->d_name) < 0)
                result = NULL;
            break;
        }
    }
    closedir(d);
    return result;
}

/* Log /sys/block/<dev> name, size and the kernel's view of the device path,
 * so the docs can say which disk is which in each machine layout. */
static void list_block_devices(void)
{
    DIR *d = opendir("/sys/block");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, "loop", 4) == 0 ||
            strncmp(e->d_name, "ram", 3) == 0)
            continue;
        char path[512], size[64] = "?", link[512] = "?";
        snprintf(path, sizeof path, "/sys/block/%s/size", e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd >= 0) {
            ssize_t n = read(fd, size, sizeof size - 1);
            size[n > 0 ? n : 0] = 0;
            if (n > 0 && size[n - 1] == '\n')
                size[n - 1] = 0;
            close(fd);
        }
        snprintf(path, sizeof path, "/sys/block/%s", e->d_name);
        ssize_t l = readlink(path, link, sizeof link - 1);
        link[l > 0 ? l : 0] = 0;
        fprintf(stderr, "guestfsd-standin: blockdev %s sectors=%s %s\n",
                e->d_name, size, link);
    }
    closedir(d);
    FILE *f = fopen("/proc/cmdline", "r");
    if (f) {
        char line[1024];
        if (fgets(line, sizeof line, f))
            fprintf(stderr, "guestfsd-standin: cmdline %s", line);
        fclose(f);
    }
    f = fopen("/proc/uptime", "r");
    if (f) {
        char line[128];
        if (fgets(line, sizeof line, f))
            fprintf(stderr, "guestfsd-standin: uptime %s", line);
        fclose(f);
    }
}

static void poweroff(void)
{
    sync();
    reboot(RB_POWER_OFF);
    _exit(0);
}

int main(void)
{
    do_mount("proc", "/proc", "proc");
    do_mount("sysfs", "/sys", "sysfs");
    do_mount("devtmpfs", "/dev", "devtmpfs");
    logmsg("started, pid 1 = %s", getpid() == 1 ? "yes" : "no");

    char *port = NULL;
    /* Poll up to ~10 s (driver probing is asynchronous). */
    for (int i = 0; i < 2000 && !(port = find_port()); i++) {
        if (i == 0 && access("/sys/class/virtio-ports", F_OK) != 0)
            logmsg("%s", "no /sys/class/virtio-ports yet, waiting");
        usleep(5000);
    }
    if (!port) {
        logmsg("%s", "channel " CHANNEL " not found");
        poweroff();
    }
    int fd = -1;
    for (int i = 0; i < 200 && fd < 0; i++) {
        fd = open(port, O_RDWR | O_CLOEXEC);
        if (fd < 0)
            usleep(5000); /* devtmpfs node may appear slightly later */
    }
    if (fd < 0) {
        logmsg("cannot open %s", port);
        poweroff();
    }
    logmsg("opened %s", port);

    static const unsigned char flag[4] = {0xF5, 0xF5, 0x5F, 0xF5};
    if (write(fd, flag, 4) != 4)
        logmsg("%s", "write launch flag failed");
    logmsg("%s", "launch flag sent");

    list_block_devices();

    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* Host not connected (EOF); wait a bit and retry. */
            usleep(100000);
            continue;
        }
        if (n >= 4 && memcmp(buf, "quit", 4) == 0)
            poweroff();
        if (write(fd, buf, (size_t)n) < 0)
            logmsg("%s", "echo write failed");
    }
}

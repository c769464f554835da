#include <stdio.h>
#include <readline/readline.h>
#include <readline/history.h>

/* guestfish --listen/--remote: passing file descriptors over a unix socket
 * (the CMSG_* macros are not visible from Swift). */
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Sends len bytes of buf with nfds descriptors attached (SCM_RIGHTS); returns
 * what sendmsg returns. */
static inline ssize_t fish_send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds) {
    char control[CMSG_SPACE(sizeof(int) * 8)];
    struct msghdr msg;
    struct iovec iov;
    struct cmsghdr *cmsg;
    if (nfds < 0 || nfds > 8) { errno = EINVAL; return -1; }
    memset(&msg, 0, sizeof msg);
    memset(control, 0, sizeof control);
    iov.iov_base = (void *) buf;
    iov.iov_len = len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
    return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

/* Receives up to len bytes and up to maxfds descriptors (stored in fds,
 * their number in *nfds, close-on-exec); returns what recvmsg returns. */
static inline ssize_t fish_recv_fds(int sock, void *buf, size_t len, int *fds, int maxfds, int *nfds) {
    char control[CMSG_SPACE(sizeof(int) * 8)];
    struct msghdr msg;
    struct iovec iov;
    struct cmsghdr *cmsg;
    ssize_t r;
    *nfds = 0;
    if (maxfds > 8) maxfds = 8;
    memset(&msg, 0, sizeof msg);
    iov.iov_base = buf;
    iov.iov_len = len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    do r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
    if (r < 0) return r;
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
            int n = (int) ((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            int i;
            int got[8];
            if (n > 8) n = 8;
            memcpy(got, CMSG_DATA(cmsg), sizeof(int) * n);
            for (i = 0; i < n; i++) {
                if (*nfds < maxfds) fds[(*nfds)++] = got[i];
                else close(got[i]);
            }
        }
    }
    return r;
}

/* Binds and listens on (or connects to) the unix socket at path; returns
 * the socket or -1 (errno set). */
static inline int fish_unix_socket(const char *path, int doListen) {
    struct sockaddr_un addr;
    int s, saved;
    if (strlen(path) >= sizeof addr.sun_path) { errno = ENAMETOOLONG; return -1; }
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, path);
    if (doListen) {
        if (bind(s, (struct sockaddr *) &addr, sizeof addr) < 0 || listen(s, 4) < 0) goto fail;
    } else {
        int r;
        do r = connect(s, (struct sockaddr *) &addr, sizeof addr); while (r < 0 && errno == EINTR);
        if (r < 0) goto fail;
    }
    return s;
fail:
    saved = errno;
    close(s);
    errno = saved;
    return -1;
}

/* The uid of the process at the other end of a unix socket, or -1. */
static inline long fish_peer_uid(int s) {
    /* struct ucred (pid, uid, gid) without needing _GNU_SOURCE. */
    struct { int pid; unsigned uid; unsigned gid; } cred;
    socklen_t len = sizeof cred;
    if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return -1;
    return (long) cred.uid;
}

#define _GNU_SOURCE
#include "CLinuxShims.h"
#include <errno.h>
#include <malloc.h>
#include <linux/watchdog.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <sys/timex.h>

int CLinuxShims_clock_synchronised(void) {
    struct timex tx = {0};
    int state = adjtimex(&tx);
    if (state < 0) return -1;
    return (state != TIME_ERROR && !(tx.status & STA_UNSYNC)) ? 1 : 0;
}

void CLinuxShims_set_thread_name(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

int CLinuxShims_send_unix_datagram(const char *path, const char *message, unsigned long length) {
    struct sockaddr_un addr;
    size_t name = strlen(path);
    if (name == 0 || name >= sizeof(addr.sun_path)) return -EINVAL;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, name);
    if (path[0] == '@') addr.sun_path[0] = 0;
    socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + name);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    ssize_t sent = sendto(fd, message, length, MSG_NOSIGNAL, (struct sockaddr *)&addr, size);
    int saved = errno;
    close(fd);
    return sent < 0 ? -saved : 0;
}

int CLinuxShims_watchdog_set_timeout(int fd, int seconds) {
    int value = seconds;
    return ioctl(fd, WDIOC_SETTIMEOUT, &value) == 0 ? 0 : -errno;
}

int CLinuxShims_watchdog_keepalive(int fd) {
    int dummy = 0;
    return ioctl(fd, WDIOC_KEEPALIVE, &dummy) == 0 ? 0 : -errno;
}

/// A stream socket and the address of `path`; returns the fd, or -errno.
static int unix_stream_socket(const char *path, struct sockaddr_un *addr) {
    if (strlen(path) >= sizeof(addr->sun_path)) return -ENAMETOOLONG;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    strcpy(addr->sun_path, path);
    return fd;
}

/// Closes `fd` and returns -errno of the call that failed.
static int fail_and_close(int fd) {
    int e = errno;
    close(fd);
    return -e;
}

int CLinuxShims_listen_unix(const char *path, unsigned mode) {
    struct sockaddr_un addr;
    int fd = unix_stream_socket(path, &addr);
    if (fd < 0) return fd;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || chmod(path, mode) != 0 || listen(fd, 16) != 0) return fail_and_close(fd);
    return fd;
}

int CLinuxShims_connect_unix(const char *path) {
    struct sockaddr_un addr;
    int fd = unix_stream_socket(path, &addr);
    if (fd < 0) return fd;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) return fail_and_close(fd);
    return fd;
}

int CLinuxShims_peer_credentials(int fd, int *pid, unsigned *uid, unsigned *gid) {
    struct ucred cred;
    socklen_t length = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) return -errno;
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
}

int CLinuxShims_tune_malloc(int arenas, int trim_threshold, int mmap_threshold) {
    return mallopt(M_ARENA_MAX, arenas) && mallopt(M_TRIM_THRESHOLD, trim_threshold) && mallopt(M_MMAP_THRESHOLD, mmap_threshold);
}

int CLinuxShims_join_within(pthread_t thread, double seconds) {
    // The monotonic clock: a gateway's wall clock jumps (NTP after a boot at 1970), and a deadline on it would too.
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    long long nanos = deadline.tv_nsec + (long long)((seconds - (long long)seconds) * 1e9);
    deadline.tv_sec += (time_t)seconds + (time_t)(nanos / 1000000000);
    deadline.tv_nsec = (long)(nanos % 1000000000);
    return pthread_clockjoin_np(thread, NULL, CLOCK_MONOTONIC, &deadline);
}

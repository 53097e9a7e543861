#ifndef VIGIL_CLINUXSHIMS_H
#define VIGIL_CLINUXSHIMS_H

// Small Linux helpers whose headers Swift's Glibc module does not bring in.

#include <pthread.h>

/// 1 when the kernel says NTP has synchronised the system clock (adjtimex
/// status without STA_UNSYNC), 0 when not, -1 when adjtimex failed.
int CLinuxShims_clock_synchronised(void);

/// Names the calling thread (at most 15 bytes show), for top and gdb.
void CLinuxShims_set_thread_name(const char *name);

/// pthread_clockjoin_np on the monotonic clock (a GNU extension Swift's Glibc
/// module does not show): waits at most `seconds` for the thread. Returns 0 when it ended, else ETIMEDOUT or another errno.
int CLinuxShims_join_within(pthread_t thread, double seconds);

/// Sends one datagram to an AF_UNIX socket (sd_notify's transport). A path
/// starting with '@' is an abstract socket: its address length is
/// offsetof(sun_path) + the name's length, with no trailing NUL.
/// Returns 0, or -errno.
int CLinuxShims_send_unix_datagram(const char *path, const char *message, unsigned long length);

/// Linux watchdog ioctls (WDIOC_* are macros Swift cannot import).
/// Each returns 0 or -errno.
int CLinuxShims_watchdog_set_timeout(int fd, int seconds);
int CLinuxShims_watchdog_keepalive(int fd);

/// A listening AF_UNIX stream socket at `path` (an old socket file there is
/// replaced), with `mode` (e.g. 0660). Returns the fd, or -errno.
int CLinuxShims_listen_unix(const char *path, unsigned mode);

/// Connects to the AF_UNIX stream socket at `path`. Returns the fd, or -errno.
int CLinuxShims_connect_unix(const char *path);

/// The peer's credentials on a connected AF_UNIX socket (SO_PEERCRED).
/// Returns 0, or -errno.
int CLinuxShims_peer_credentials(int fd, int *pid, unsigned *uid, unsigned *gid);

/// Sets glibc's malloc arenas (M_ARENA_MAX), the free memory it keeps at the
/// top of the heap before giving it back (M_TRIM_THRESHOLD) and the size from
/// which a block is mapped of its own (M_MMAP_THRESHOLD), in bytes. Returns 1
/// when glibc took all three.
int CLinuxShims_tune_malloc(int arenas, int trim_threshold, int mmap_threshold);

/// Unmaps from this process the pages of its read-only file mappings (its code
/// and constants, and its libraries') that are still the file's own content; the
/// kernel maps each again from the page cache when it is next touched. Returns
/// the resident KiB released, or -errno when /proc/self/smaps cannot be read.
long CLinuxShims_release_file_pages(void);

#endif

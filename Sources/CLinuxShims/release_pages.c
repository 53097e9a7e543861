#define _GNU_SOURCE
#include "CLinuxShims.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

// One mapping of /proc/self/smaps, as far as the decision needs it.
struct mapping {
    unsigned long start, end;
    long rss_kib;
    long anonymous_kib;
    int read_only_file; // file-backed, not writable
    int locked;
};

// Only a mapping whose every page is still the file's own content may be dropped:
// the kernel maps those pages again from the page cache on the next touch. A page
// written once (relocations, even when mprotected read-only since, as RELRO is)
// is an anonymous copy: dropping it would bring back the unrelocated file page.
static int droppable(const struct mapping *m) {
    return m->read_only_file && !m->locked && m->anonymous_kib == 0 && m->rss_kib > 0;
}

long CLinuxShims_release_file_pages(void) {
    FILE *smaps = fopen("/proc/self/smaps", "re");
    if (!smaps) return -errno;
    enum { capacity = 1024 };
    static struct mapping drop[capacity];
    int count = 0;
    struct mapping current = {0};
    int have_current = 0;
    char line[512];
    while (fgets(line, sizeof line, smaps)) {
        unsigned long start, end;
        char perms[8] = "";
        char path[256] = "";
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &start, &end, perms, path) >= 3) {
            current = (struct mapping){ .start = start, .end = end };
            // Not a device's memory (/dev/...): only files whose pages the page cache holds.
            current.read_only_file = path[0] == '/' && strncmp(path, "/dev/", 5) != 0 && perms[1] != 'w';
            have_current = 1;
        } else if (have_current && strncmp(line, "Rss:", 4) == 0) {
            current.rss_kib = strtol(line + 4, NULL, 10);
        } else if (have_current && strncmp(line, "Anonymous:", 10) == 0) {
            current.anonymous_kib = strtol(line + 10, NULL, 10);
        } else if (have_current && strncmp(line, "VmFlags:", 8) == 0) {
            // The last line of a mapping's block.
            current.locked = strstr(line, " lo") != NULL;
            if (droppable(&current) && count < capacity) drop[count++] = current;
            have_current = 0;
        }
    }
    fclose(smaps);
    long released = 0;
    for (int i = 0; i < count; i++) {
        if (madvise((void *)drop[i].start, drop[i].end - drop[i].start, MADV_DONTNEED) == 0) released += drop[i].rss_kib;
    }
    return released;
}

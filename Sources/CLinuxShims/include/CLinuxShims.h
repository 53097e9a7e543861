#ifndef VIGIL_CLINUXSHIMS_H
#define VIGIL_CLINUXSHIMS_H

// Small Linux helpers whose headers Swift's Glibc module does not bring in.

/// 1 when the kernel says NTP has synchronised the system clock (adjtimex
/// status without STA_UNSYNC), 0 when not, -1 when adjtimex failed.
int CLinuxShims_clock_synchronised(void);

/// Names the calling thread (at most 15 bytes show), for top and gdb.
void CLinuxShims_set_thread_name(const char *name);

#endif

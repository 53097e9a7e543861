#ifndef VIGIL_CCRC32C_H
#define VIGIL_CCRC32C_H

// The journal's checksum instruction, apart from the Linux shims: VigilCore
// needs this and nothing else in C, and it needs no kernel header.

/// CRC-32C with the CPU's own instruction (SSE 4.2 on x86-64, the CRC
/// extension on ARMv8), which compilers expose only as intrinsics Swift
/// cannot call. `crc` is the running value (pre-inverted, as the caller keeps
/// it). Returns 1 and stores the result when the CPU has the instruction, 0
/// when not (the caller then uses its table).
int CCRC32C_hardware(unsigned crc, const void *bytes, unsigned long count, unsigned *result);

#endif

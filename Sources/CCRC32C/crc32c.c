#include "CCRC32C.h"
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

static int cpu_has_crc32c(void) {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2);
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_instruction(uint32_t crc, const unsigned char *p, unsigned long n) {
    uint64_t c = crc;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = __builtin_ia32_crc32di(c, word);
    }
    uint32_t c32 = (uint32_t)c;
    for (; n > 0; p++, n--) c32 = __builtin_ia32_crc32qi(c32, *p);
    return c32;
}

#elif defined(__aarch64__)
#include <sys/auxv.h>
// HWCAP_CRC32 is the kernel's (asm/hwcap.h); its value is fixed by the arm64 ABI.
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif

static int cpu_has_crc32c(void) { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }

__attribute__((target("+crc")))
static uint32_t crc32c_instruction(uint32_t crc, const unsigned char *p, unsigned long n) {
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc = __builtin_arm_crc32cd(crc, word);
    }
    for (; n > 0; p++, n--) crc = __builtin_arm_crc32cb(crc, *p);
    return crc;
}

#else
static int cpu_has_crc32c(void) { return 0; }
static uint32_t crc32c_instruction(uint32_t crc, const unsigned char *p, unsigned long n) { (void)p; (void)n; return crc; }
#endif

int CCRC32C_hardware(unsigned crc, const void *bytes, unsigned long count, unsigned *result) {
    // Asked once; a race at first use only asks twice.
    static int available = -1;
    if (available < 0) available = cpu_has_crc32c();
    if (!available) return 0;
    *result = crc32c_instruction(crc, bytes, count);
    return 1;
}

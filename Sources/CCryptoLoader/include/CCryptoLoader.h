#ifndef VIGIL_CCRYPTO_LOADER_H
#define VIGIL_CCRYPTO_LOADER_H

// OpenSSL's libcrypto, loaded when an uplink that signs its login (Alibaba's
// Alink) is made (dlopen of libcrypto.so.3), not linked — for the reason
// libcurl and libmosquitto are not (see CCurlLoader.h): an agent with another
// uplink, or a technician's `vigil status`, does not need its pages.

#include <stddef.h>

/// Loads libcrypto (once: libcrypto.so.3, or the file $VIGIL_LIBCRYPTO names).
/// Returns NULL when it is ready, else why not, the same every call.
const char *CCrypto_load(void);

/// HMAC-SHA256 of `data` keyed by `key` into `out` (32 bytes). Returns 0, or -1
/// when libcrypto is not loaded or fails.
int CCrypto_hmac_sha256(const void *key, int key_length, const unsigned char *data, size_t length, unsigned char out[32]);

#endif

#ifndef VIGIL_CCRYPTO_LOADER_H
#define VIGIL_CCRYPTO_LOADER_H

// OpenSSL's libcrypto, loaded when an uplink that signs its login (Alibaba's
// Alink, Huawei's IoTDA, China Mobile's OneNET) is made (dlopen of
// libcrypto.so.3), not linked — for the reason libcurl and libmosquitto are not
// (see CCurlLoader.h): an agent with another uplink, or a technician's
// `vigil status`, does not need its pages.

#include <stddef.h>

/// Loads libcrypto (once: libcrypto.so.3, or the file $VIGIL_LIBCRYPTO names).
/// Returns NULL when it is ready, else why not, the same every call.
const char *CCrypto_load(void);

/// HMAC of `data` keyed by `key` into `out` (room for 32 bytes), with the digest
/// "md5", "sha1" or "sha256". Returns the digest's length, or -1 when libcrypto
/// is not loaded, the digest is unknown or HMAC fails.
int CCrypto_hmac(const char *digest, const void *key, int key_length, const unsigned char *data, size_t length, unsigned char out[32]);

/// Base64 of `data` into `out` (room for 4 * ((length + 2) / 3) + 1 bytes, NUL-terminated). Returns its length, or -1.
int CCrypto_base64_encode(const unsigned char *data, int length, char *out);

/// The bytes `text` (padded base64, trailing white space ignored) stands for, into `out`
/// (room for 3 * length / 4 bytes). Returns their count, or -1 when `text` is not base64.
int CCrypto_base64_decode(const char *text, int length, unsigned char *out);

#endif

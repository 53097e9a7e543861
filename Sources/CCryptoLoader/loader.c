#include "CCryptoLoader.h"
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    const EVP_MD *(*md5)(void);
    const EVP_MD *(*sha1)(void);
    const EVP_MD *(*sha256)(void);
    unsigned char *(*hmac)(const EVP_MD *, const void *, int, const unsigned char *, size_t, unsigned char *, unsigned int *);
    int (*encode)(unsigned char *, const unsigned char *, int);
    int (*decode)(unsigned char *, const unsigned char *, int);
} crypto;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];

static void load(void) {
    const char *name = getenv("VIGIL_LIBCRYPTO");
    if (!name || !*name) name = "libcrypto.so.3";
    void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(load_error, sizeof load_error, "%s (install libssl3, or set VIGIL_LIBCRYPTO to the library)", dlerror());
        return;
    }
    if (!(*(void **)&crypto.md5 = dlsym(lib, "EVP_md5")) || !(*(void **)&crypto.sha1 = dlsym(lib, "EVP_sha1"))
        || !(*(void **)&crypto.sha256 = dlsym(lib, "EVP_sha256")) || !(*(void **)&crypto.encode = dlsym(lib, "EVP_EncodeBlock"))
        || !(*(void **)&crypto.decode = dlsym(lib, "EVP_DecodeBlock")) || !(*(void **)&crypto.hmac = dlsym(lib, "HMAC"))) {
        snprintf(load_error, sizeof load_error, "%s lacks EVP_md5, EVP_sha1, EVP_sha256, EVP_EncodeBlock, EVP_DecodeBlock or HMAC: %s", name, dlerror());
        memset(&crypto, 0, sizeof crypto);
    }
}

const char *CCrypto_load(void) {
    pthread_once(&once, load);
    return crypto.hmac ? NULL : load_error;
}

int CCrypto_hmac(const char *digest, const void *key, int key_length, const unsigned char *data, size_t length, unsigned char out[32]) {
    if (CCrypto_load()) return -1;
    const EVP_MD *md = !strcmp(digest, "md5") ? crypto.md5() : !strcmp(digest, "sha1") ? crypto.sha1() : !strcmp(digest, "sha256") ? crypto.sha256() : NULL;
    if (!md) return -1;
    unsigned int written = 0;
    if (!crypto.hmac(md, key, key_length, data, length, out, &written)) return -1;
    return (int)written;
}

int CCrypto_base64_encode(const unsigned char *data, int length, char *out) {
    if (CCrypto_load()) return -1;
    return crypto.encode((unsigned char *)out, data, length);
}

int CCrypto_base64_decode(const char *text, int length, unsigned char *out) {
    if (CCrypto_load()) return -1;
    while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\r' || text[length - 1] == ' ')) length--;
    if (length % 4 != 0) return -1;
    int decoded = crypto.decode(out, (const unsigned char *)text, length);
    if (decoded < 0) return -1;
    // EVP_DecodeBlock counts the zero bytes the padding stands for.
    for (int i = length - 1; i >= 0 && text[i] == '='; i--) decoded--;
    return decoded;
}

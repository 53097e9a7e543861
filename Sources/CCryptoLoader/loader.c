#include "CCryptoLoader.h"
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static struct {
    const EVP_MD *(*sha256)(void);
    unsigned char *(*hmac)(const EVP_MD *, const void *, int, const unsigned char *, size_t, unsigned char *, unsigned int *);
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
    if (!(*(void **)&crypto.sha256 = dlsym(lib, "EVP_sha256")) || !(*(void **)&crypto.hmac = dlsym(lib, "HMAC"))) {
        snprintf(load_error, sizeof load_error, "%s has no EVP_sha256 or HMAC: %s", name, dlerror());
        crypto.sha256 = NULL;
        crypto.hmac = NULL;
    }
}

const char *CCrypto_load(void) {
    pthread_once(&once, load);
    return crypto.hmac ? NULL : load_error;
}

int CCrypto_hmac_sha256(const void *key, int key_length, const unsigned char *data, size_t length, unsigned char out[32]) {
    if (CCrypto_load()) return -1;
    unsigned int written = 0;
    if (!crypto.hmac(crypto.sha256(), key, key_length, data, length, out, &written) || written != 32) return -1;
    return 0;
}

#include "CCryptoLoader.h"
#include <dlfcn.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The digests by their direct functions (MD5_Init, SHA1_Init, SHA256_Init and their
// Update/Final), not by EVP and HMAC(): those fetch from OpenSSL 3's providers, whose
// first use reads openssl.cnf and registers every algorithm — measured 2.3 MB more
// RSS for an agent over plain MQTT that signs one login (make bench, section 2).
// HMAC on top of them is RFC 2104's few lines, below.
struct digest {
    const char *name;
    const char *symbols[3];
    int (*init)(void *);
    int (*update)(void *, const void *, size_t);
    int (*final)(unsigned char *, void *);
    size_t length;
};

static struct digest digests[] = {
    {"md5", {"MD5_Init", "MD5_Update", "MD5_Final"}, NULL, NULL, NULL, MD5_DIGEST_LENGTH},
    {"sha1", {"SHA1_Init", "SHA1_Update", "SHA1_Final"}, NULL, NULL, NULL, SHA_DIGEST_LENGTH},
    {"sha256", {"SHA256_Init", "SHA256_Update", "SHA256_Final"}, NULL, NULL, NULL, SHA256_DIGEST_LENGTH},
};

/// Room for any of the three digests' state.
typedef union { MD5_CTX md5; SHA_CTX sha1; SHA256_CTX sha256; } digest_state;

/// The block size of all three digests, which RFC 2104 pads the key to.
enum { block_size = 64 };

static struct {
    int ready;
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
    if (!(*(void **)&crypto.encode = dlsym(lib, "EVP_EncodeBlock")) || !(*(void **)&crypto.decode = dlsym(lib, "EVP_DecodeBlock"))) {
        snprintf(load_error, sizeof load_error, "%s lacks EVP_EncodeBlock or EVP_DecodeBlock: %s", name, dlerror());
        return;
    }
    for (size_t i = 0; i < sizeof digests / sizeof digests[0]; i++) {
        struct digest *d = &digests[i];
        if (!(*(void **)&d->init = dlsym(lib, d->symbols[0])) || !(*(void **)&d->update = dlsym(lib, d->symbols[1]))
            || !(*(void **)&d->final = dlsym(lib, d->symbols[2]))) {
            snprintf(load_error, sizeof load_error, "%s lacks %s (built without OpenSSL's deprecated digest functions?): %s",
                     name, d->symbols[0], dlerror());
            return;
        }
    }
    crypto.ready = 1;
}

const char *CCrypto_load(void) {
    pthread_once(&once, load);
    return crypto.ready ? NULL : load_error;
}

/// H(pad XOR key || data), with `key` already at most a block long.
static int keyed_hash(const struct digest *d, const unsigned char *key, size_t key_length, unsigned char pad,
                      const unsigned char *data, size_t length, unsigned char *out) {
    unsigned char block[block_size];
    memset(block, pad, sizeof block);
    for (size_t i = 0; i < key_length; i++) block[i] ^= key[i];
    digest_state state;
    int ok = d->init(&state) && d->update(&state, block, sizeof block) && d->update(&state, data, length) && d->final(out, &state);
    // The key and the digest state derived from it do not outlive the call (as OpenSSL's HMAC cleanses them).
    explicit_bzero(block, sizeof block);
    explicit_bzero(&state, sizeof state);
    return ok;
}

int CCrypto_hmac(const char *digest, const void *key, int key_length, const unsigned char *data, size_t length, unsigned char out[32]) {
    if (CCrypto_load() || key_length < 0) return -1;
    const struct digest *d = NULL;
    for (size_t i = 0; i < sizeof digests / sizeof digests[0]; i++) if (!strcmp(digest, digests[i].name)) d = &digests[i];
    if (!d) return -1;
    // RFC 2104: a key longer than a block is hashed first.
    unsigned char hashed[SHA256_DIGEST_LENGTH];
    const unsigned char *k = key;
    size_t k_length = (size_t)key_length;
    if (k_length > block_size) {
        digest_state state;
        int ok = d->init(&state) && d->update(&state, key, k_length) && d->final(hashed, &state);
        explicit_bzero(&state, sizeof state);
        if (!ok) return -1;
        k = hashed;
        k_length = d->length;
    }
    unsigned char inner[SHA256_DIGEST_LENGTH];
    int ok = keyed_hash(d, k, k_length, 0x36, data, length, inner) && keyed_hash(d, k, k_length, 0x5c, inner, d->length, out);
    explicit_bzero(hashed, sizeof hashed);
    return ok ? (int)d->length : -1;
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

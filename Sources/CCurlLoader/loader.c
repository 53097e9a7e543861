#include "CCurlLoader.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    char *(*version)(void);
} curl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];

#define RESOLVE(lib, field, name) \
    if (!(*(void **)&curl.field = dlsym(lib, name))) { \
        snprintf(load_error, sizeof load_error, "libcurl has no %s: %s", name, dlerror()); \
        return; \
    }

static void load(void) {
    // VIGIL_LIBCURL names another build (a slimmer one on a small gateway).
    const char *name = getenv("VIGIL_LIBCURL");
    if (!name || !*name) name = "libcurl.so.4";
    void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(load_error, sizeof load_error, "%s (install libcurl4, or set VIGIL_LIBCURL to the library)", dlerror());
        return;
    }
    RESOLVE(lib, global_init, "curl_global_init")
    RESOLVE(lib, easy_init, "curl_easy_init")
    RESOLVE(lib, easy_cleanup, "curl_easy_cleanup")
    RESOLVE(lib, easy_reset, "curl_easy_reset")
    RESOLVE(lib, easy_perform, "curl_easy_perform")
    RESOLVE(lib, easy_strerror, "curl_easy_strerror")
    RESOLVE(lib, easy_setopt, "curl_easy_setopt")
    RESOLVE(lib, easy_getinfo, "curl_easy_getinfo")
    RESOLVE(lib, slist_append, "curl_slist_append")
    RESOLVE(lib, slist_free_all, "curl_slist_free_all")
    RESOLVE(lib, version, "curl_version")
    CURLcode code = curl.global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed: %s", curl.easy_strerror(code));
    }
}

const char *CCurl_load(void) {
    pthread_once(&once, load);
    return load_error[0] ? load_error : NULL;
}

CURL *CCurl_easy_init(void) { return curl.easy_init(); }
void CCurl_easy_cleanup(CURL *h) { curl.easy_cleanup(h); }
void CCurl_easy_reset(CURL *h) { curl.easy_reset(h); }
CURLcode CCurl_easy_perform(CURL *h) { return curl.easy_perform(h); }
const char *CCurl_easy_strerror(CURLcode code) { return curl.easy_strerror(code); }
struct curl_slist *CCurl_slist_append(struct curl_slist *list, const char *text) { return curl.slist_append(list, text); }
void CCurl_slist_free_all(struct curl_slist *list) { curl.slist_free_all(list); }
const char *CCurl_version(void) { const char *error = CCurl_load(); return error ? error : curl.version(); }

CURLcode CCurl_setopt_long(CURL *h, CURLoption o, long v) { return curl.easy_setopt(h, o, v); }
CURLcode CCurl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl.easy_setopt(h, o, v); }
CURLcode CCurl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl.easy_setopt(h, o, v); }
CURLcode CCurl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl.easy_setopt(h, o, v); }
CURLcode CCurl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl.easy_setopt(h, o, v); }
CURLcode CCurl_setopt_callback(CURL *h, CURLoption o, CCurl_data_callback v) { return curl.easy_setopt(h, o, v); }
CURLcode CCurl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl.easy_getinfo(h, i, v); }
CURLcode CCurl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl.easy_getinfo(h, i, v); }

// Every byte curl exchanges, as its debug callback reports them: headers and
// bodies both ways, and TLS handshake messages (the TLS record framing of the data
// is not reported; it adds a few percent).
static int count_bytes(CURL *h, curl_infotype type, char *data, size_t size, void *user) {
    (void)h; (void)data;
    if (type == CURLINFO_HEADER_IN || type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_IN || type == CURLINFO_DATA_OUT
        || type == CURLINFO_SSL_DATA_IN || type == CURLINFO_SSL_DATA_OUT) {
        *(curl_off_t *)user += (curl_off_t)size;
    }
    return 0;
}

CURLcode CCurl_count_bytes(CURL *h, curl_off_t *counter) {
    CURLcode rc = curl.easy_setopt(h, CURLOPT_DEBUGFUNCTION, count_bytes);
    if (rc == CURLE_OK) rc = curl.easy_setopt(h, CURLOPT_DEBUGDATA, (void *)counter);
    if (rc == CURLE_OK) rc = curl.easy_setopt(h, CURLOPT_VERBOSE, 1L);
    return rc;
}

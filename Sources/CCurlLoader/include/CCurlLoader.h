#ifndef VIGIL_CCURL_LOADER_H
#define VIGIL_CCURL_LOADER_H

// libcurl, loaded when the first HTTP uplink is made (dlopen of
// libcurl.so.4), not linked: libcurl brings some thirty libraries with it
// (two TLS stacks, Kerberos, LDAP, SSH...) whose pages are 5 MB of the
// agent's resident memory, and an agent whose uplink is not HTTP, or a
// technician's `vigil status`, needs none of them. Its types and constants
// come from its own header; its functions only through the wrappers below,
// which also make the variadic setopt/getinfo callable from Swift.

#include <curl/curl.h>

/// Loads libcurl (once: libcurl.so.4, or the file $VIGIL_LIBCURL names) and
/// calls curl_global_init. Returns NULL when it is ready, else why not
/// (dlopen's or dlsym's message), the same every call.
const char *CCurl_load(void);

// The calls below need CCurl_load() to have returned NULL.
CURL *CCurl_easy_init(void);
void CCurl_easy_cleanup(CURL *handle);
void CCurl_easy_reset(CURL *handle);
CURLcode CCurl_easy_perform(CURL *handle);
const char *CCurl_easy_strerror(CURLcode code);
struct curl_slist *CCurl_slist_append(struct curl_slist *list, const char *text);
void CCurl_slist_free_all(struct curl_slist *list);
/// libcurl's version line (with its TLS library), or the load error.
const char *CCurl_version(void);

CURLcode CCurl_setopt_long(CURL *h, CURLoption o, long v);
CURLcode CCurl_setopt_string(CURL *h, CURLoption o, const char *v);
CURLcode CCurl_setopt_pointer(CURL *h, CURLoption o, void *v);
CURLcode CCurl_setopt_off(CURL *h, CURLoption o, curl_off_t v);
CURLcode CCurl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v);
typedef size_t (*CCurl_data_callback)(char *data, size_t size, size_t count, void *user);
CURLcode CCurl_setopt_callback(CURL *h, CURLoption o, CCurl_data_callback v);
CURLcode CCurl_getinfo_long(CURL *h, CURLINFO i, long *v);
CURLcode CCurl_getinfo_double(CURL *h, CURLINFO i, double *v);
/// Adds to *counter every byte the next transfers exchange (headers, bodies, TLS handshake); *counter must outlive them.
CURLcode CCurl_count_bytes(CURL *h, curl_off_t *counter);

#endif

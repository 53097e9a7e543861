#include "CMosquittoLoader.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static struct {
    int (*lib_init)(void);
    int (*lib_version)(int *, int *, int *);
    struct mosquitto *(*new_)(const char *, bool, void *);
    void (*destroy)(struct mosquitto *);
    int (*reinitialise)(struct mosquitto *, const char *, bool, void *);
    void (*user_data_set)(struct mosquitto *, void *);
    int (*threaded_set)(struct mosquitto *, bool);
    int (*int_option)(struct mosquitto *, enum mosq_opt_t, int);
    int (*socket)(struct mosquitto *);
    int (*username_pw_set)(struct mosquitto *, const char *, const char *);
    int (*will_set_v5)(struct mosquitto *, const char *, int, const void *, int, bool, mosquitto_property *);
    int (*tls_set)(struct mosquitto *, const char *, const char *, const char *, const char *, int (*)(char *, int, int, void *));
    int (*tls_insecure_set)(struct mosquitto *, bool);
    int (*tls_opts_set)(struct mosquitto *, int, const char *, const char *);
    int (*connect_bind_v5)(struct mosquitto *, const char *, int, int, const char *, const mosquitto_property *);
    int (*disconnect_v5)(struct mosquitto *, int, const mosquitto_property *);
    int (*loop)(struct mosquitto *, int, int);
    int (*publish_v5)(struct mosquitto *, int *, const char *, int, const void *, int, bool, const mosquitto_property *);
    void (*connect_v5_callback_set)(struct mosquitto *, void (*)(struct mosquitto *, void *, int, int, const mosquitto_property *));
    void (*disconnect_v5_callback_set)(struct mosquitto *, void (*)(struct mosquitto *, void *, int, const mosquitto_property *));
    void (*publish_v5_callback_set)(struct mosquitto *, void (*)(struct mosquitto *, void *, int, int, const mosquitto_property *));
    int (*subscribe_v5)(struct mosquitto *, int *, const char *, int, int, const mosquitto_property *);
    void (*message_v5_callback_set)(struct mosquitto *, void (*)(struct mosquitto *, void *, const struct mosquitto_message *, const mosquitto_property *));
    const char *(*strerror_)(int);
    const char *(*connack_string)(int);
    const char *(*reason_string)(int);
    int (*property_add_int32)(mosquitto_property **, int, uint32_t);
    void (*property_free_all)(mosquitto_property **);
} mosq;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];
static char version[64];

#define RESOLVE(lib, field, name) \
    if (!(*(void **)&mosq.field = dlsym(lib, name))) { \
        snprintf(load_error, sizeof load_error, "libmosquitto has no %s: %s", name, dlerror()); \
        return; \
    }

static void load(void) {
    const char *name = getenv("VIGIL_LIBMOSQUITTO");
    if (!name || !*name) name = "libmosquitto.so.1";
    void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(load_error, sizeof load_error, "%s (install libmosquitto1, or set VIGIL_LIBMOSQUITTO to the library)", dlerror());
        return;
    }
    RESOLVE(lib, lib_init, "mosquitto_lib_init")
    RESOLVE(lib, lib_version, "mosquitto_lib_version")
    RESOLVE(lib, new_, "mosquitto_new")
    RESOLVE(lib, destroy, "mosquitto_destroy")
    RESOLVE(lib, reinitialise, "mosquitto_reinitialise")
    RESOLVE(lib, user_data_set, "mosquitto_user_data_set")
    RESOLVE(lib, threaded_set, "mosquitto_threaded_set")
    RESOLVE(lib, int_option, "mosquitto_int_option")
    RESOLVE(lib, socket, "mosquitto_socket")
    RESOLVE(lib, username_pw_set, "mosquitto_username_pw_set")
    RESOLVE(lib, will_set_v5, "mosquitto_will_set_v5")
    RESOLVE(lib, tls_set, "mosquitto_tls_set")
    RESOLVE(lib, tls_insecure_set, "mosquitto_tls_insecure_set")
    RESOLVE(lib, tls_opts_set, "mosquitto_tls_opts_set")
    RESOLVE(lib, connect_bind_v5, "mosquitto_connect_bind_v5")
    RESOLVE(lib, disconnect_v5, "mosquitto_disconnect_v5")
    RESOLVE(lib, loop, "mosquitto_loop")
    RESOLVE(lib, publish_v5, "mosquitto_publish_v5")
    RESOLVE(lib, connect_v5_callback_set, "mosquitto_connect_v5_callback_set")
    RESOLVE(lib, disconnect_v5_callback_set, "mosquitto_disconnect_v5_callback_set")
    RESOLVE(lib, publish_v5_callback_set, "mosquitto_publish_v5_callback_set")
    RESOLVE(lib, subscribe_v5, "mosquitto_subscribe_v5")
    RESOLVE(lib, message_v5_callback_set, "mosquitto_message_v5_callback_set")
    RESOLVE(lib, strerror_, "mosquitto_strerror")
    RESOLVE(lib, connack_string, "mosquitto_connack_string")
    RESOLVE(lib, reason_string, "mosquitto_reason_string")
    RESOLVE(lib, property_add_int32, "mosquitto_property_add_int32")
    RESOLVE(lib, property_free_all, "mosquitto_property_free_all")
    int major = 0, minor = 0, revision = 0;
    mosq.lib_version(&major, &minor, &revision);
    snprintf(version, sizeof version, "libmosquitto %d.%d.%d", major, minor, revision);
    int rc = mosq.lib_init();
    if (rc != MOSQ_ERR_SUCCESS) {
        snprintf(load_error, sizeof load_error, "mosquitto_lib_init failed: %s", mosq.strerror_(rc));
    }
}

const char *CMosquitto_load(void) {
    pthread_once(&once, load);
    return load_error[0] ? load_error : NULL;
}

const char *CMosquitto_version(void) { return CMosquitto_load() ? load_error : version; }

struct mosquitto *CMosquitto_new(const char *id, bool clean_session, void *obj) { return mosq.new_(id, clean_session, obj); }
void CMosquitto_destroy(struct mosquitto *m) { mosq.destroy(m); }
int CMosquitto_reinitialise(struct mosquitto *m, const char *id, bool clean_session, void *obj) { return mosq.reinitialise(m, id, clean_session, obj); }
void CMosquitto_user_data_set(struct mosquitto *m, void *obj) { mosq.user_data_set(m, obj); }
int CMosquitto_threaded_set(struct mosquitto *m, bool threaded) { return mosq.threaded_set(m, threaded); }
int CMosquitto_int_option(struct mosquitto *m, enum mosq_opt_t option, int value) { return mosq.int_option(m, option, value); }
int CMosquitto_socket(struct mosquitto *m) { return mosq.socket(m); }
int CMosquitto_username_pw_set(struct mosquitto *m, const char *u, const char *p) { return mosq.username_pw_set(m, u, p); }
int CMosquitto_will_set_v5(struct mosquitto *m, const char *topic, int length, const void *payload, int qos, bool retain, mosquitto_property *props) {
    return mosq.will_set_v5(m, topic, length, payload, qos, retain, props);
}
int CMosquitto_tls_set(struct mosquitto *m, const char *cafile, const char *capath, const char *certfile, const char *keyfile) {
    return mosq.tls_set(m, cafile, capath, certfile, keyfile, NULL);
}
int CMosquitto_tls_insecure_set(struct mosquitto *m, bool insecure) { return mosq.tls_insecure_set(m, insecure); }
int CMosquitto_tls_opts_set(struct mosquitto *m, bool verify_peer) { return mosq.tls_opts_set(m, verify_peer ? 1 : 0, NULL, NULL); }
int CMosquitto_connect_bind_v5(struct mosquitto *m, const char *host, int port, int keepalive, const mosquitto_property *props) {
    return mosq.connect_bind_v5(m, host, port, keepalive, NULL, props);
}
int CMosquitto_disconnect_v5(struct mosquitto *m, int reason, const mosquitto_property *props) { return mosq.disconnect_v5(m, reason, props); }
int CMosquitto_loop(struct mosquitto *m, int timeout_ms, int max_packets) { return mosq.loop(m, timeout_ms, max_packets); }
int CMosquitto_publish_v5(struct mosquitto *m, int *mid, const char *topic, int length, const void *payload, int qos, bool retain, const mosquitto_property *props) {
    return mosq.publish_v5(m, mid, topic, length, payload, qos, retain, props);
}
void CMosquitto_connect_v5_callback_set(struct mosquitto *m, void (*cb)(struct mosquitto *, void *, int, int, const mosquitto_property *)) { mosq.connect_v5_callback_set(m, cb); }
void CMosquitto_disconnect_v5_callback_set(struct mosquitto *m, void (*cb)(struct mosquitto *, void *, int, const mosquitto_property *)) { mosq.disconnect_v5_callback_set(m, cb); }
void CMosquitto_publish_v5_callback_set(struct mosquitto *m, void (*cb)(struct mosquitto *, void *, int, int, const mosquitto_property *)) { mosq.publish_v5_callback_set(m, cb); }
int CMosquitto_subscribe_v5(struct mosquitto *m, int *mid, const char *sub, int qos, int options, const mosquitto_property *props) {
    return mosq.subscribe_v5(m, mid, sub, qos, options, props);
}
void CMosquitto_message_v5_callback_set(struct mosquitto *m, void (*cb)(struct mosquitto *, void *, const struct mosquitto_message *, const mosquitto_property *)) {
    mosq.message_v5_callback_set(m, cb);
}
const char *CMosquitto_strerror(int code) { return mosq.strerror_(code); }
const char *CMosquitto_connack_string(int code) { return mosq.connack_string(code); }
const char *CMosquitto_reason_string(int code) { return mosq.reason_string(code); }
int CMosquitto_property_add_int32(mosquitto_property **props, int identifier, uint32_t value) { return mosq.property_add_int32(props, identifier, value); }
void CMosquitto_property_free_all(mosquitto_property **props) { mosq.property_free_all(props); }

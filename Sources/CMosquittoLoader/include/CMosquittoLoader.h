#ifndef VIGIL_CMOSQUITTO_LOADER_H
#define VIGIL_CMOSQUITTO_LOADER_H

// libmosquitto, loaded when the first MQTT uplink is made (dlopen of
// libmosquitto.so.1), not linked — for the reason libcurl is not (see
// CCurlLoader.h): it brings OpenSSL and c-ares, whose pages an agent with
// another uplink, or a technician's `vigil status`, does not need. Types and
// constants come from its own headers; its functions only through these.

#include <mosquitto.h>
#include <mqtt_protocol.h>

/// Loads libmosquitto (once: libmosquitto.so.1, or the file
/// $VIGIL_LIBMOSQUITTO names) and calls mosquitto_lib_init. Returns NULL when
/// it is ready, else why not, the same every call.
const char *CMosquitto_load(void);

// The calls below need CMosquitto_load() to have returned NULL.
struct mosquitto *CMosquitto_new(const char *id, bool clean_session, void *obj);
void CMosquitto_destroy(struct mosquitto *m);
/// A new client id on the same handle; every option and callback must be set again.
int CMosquitto_reinitialise(struct mosquitto *m, const char *id, bool clean_session, void *obj);
void CMosquitto_user_data_set(struct mosquitto *m, void *obj);
int CMosquitto_threaded_set(struct mosquitto *m, bool threaded);
int CMosquitto_int_option(struct mosquitto *m, enum mosq_opt_t option, int value);
/// The client's socket, -1 when not connected.
int CMosquitto_socket(struct mosquitto *m);
int CMosquitto_username_pw_set(struct mosquitto *m, const char *username, const char *password);
int CMosquitto_will_set_v5(struct mosquitto *m, const char *topic, int length, const void *payload, int qos, bool retain, mosquitto_property *props);
int CMosquitto_tls_set(struct mosquitto *m, const char *cafile, const char *capath, const char *certfile, const char *keyfile);
int CMosquitto_tls_insecure_set(struct mosquitto *m, bool insecure);
/// verify_peer false: the broker's certificate chain is not checked (SSL_VERIFY_NONE).
int CMosquitto_tls_opts_set(struct mosquitto *m, bool verify_peer);
int CMosquitto_connect_bind_v5(struct mosquitto *m, const char *host, int port, int keepalive, const mosquitto_property *props);
int CMosquitto_disconnect_v5(struct mosquitto *m, int reason, const mosquitto_property *props);
int CMosquitto_loop(struct mosquitto *m, int timeout_ms, int max_packets);
int CMosquitto_publish_v5(struct mosquitto *m, int *mid, const char *topic, int length, const void *payload, int qos, bool retain, const mosquitto_property *props);
void CMosquitto_connect_v5_callback_set(struct mosquitto *m, void (*cb)(struct mosquitto *, void *, int, int, const mosquitto_property *));
void CMosquitto_disconnect_v5_callback_set(struct mosquitto *m, void (*cb)(struct mosquitto *, void *, int, const mosquitto_property *));
void CMosquitto_publish_v5_callback_set(struct mosquitto *m, void (*cb)(struct mosquitto *, void *, int, int, const mosquitto_property *));
int CMosquitto_subscribe_v5(struct mosquitto *m, int *mid, const char *sub, int qos, int options, const mosquitto_property *props);
void CMosquitto_message_v5_callback_set(struct mosquitto *m, void (*cb)(struct mosquitto *, void *, const struct mosquitto_message *, const mosquitto_property *));
const char *CMosquitto_strerror(int code);
const char *CMosquitto_connack_string(int code);
const char *CMosquitto_reason_string(int code);
int CMosquitto_property_add_int32(mosquitto_property **props, int identifier, uint32_t value);
void CMosquitto_property_free_all(mosquitto_property **props);
/// "libmosquitto 2.0.11", or the load error.
const char *CMosquitto_version(void);

#endif

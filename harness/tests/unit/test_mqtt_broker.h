/*
 * test_mqtt_broker.h: a real mosquitto for the MQTT unit tests, and the
 * sockets around it (a closed port, a listener that never answers).
 *
 * test_mqtt_broker_start() writes a configuration into a fresh temporary
 * directory, picks a free port (bind 127.0.0.1:0, close, start mosquitto on
 * it; retried on "Address already in use"), starts mosquitto and waits for
 * readiness by polling a TCP connect with a deadline (no fixed sleep). Stop
 * it with test_mqtt_broker_stop(): SIGTERM to its PID, waitpid, and the
 * directory is removed. Certificates come from the openssl command line.
 * Also a transcript sink that keeps what it is given, for the tests to search.
 */
#ifndef ASSAY_TEST_MQTT_BROKER_H
#define ASSAY_TEST_MQTT_BROKER_H

#include <stdint.h>
#include <sys/types.h>

#include "core/transcript.h"

#define TEST_MQTT_USER "admin"
#define TEST_MQTT_PASSWORD "s3cret-pass"

enum test_mqtt_kind {
    TEST_MQTT_ANON = 0, /* allow_anonymous true */
    TEST_MQTT_AUTH,     /* allow_anonymous false, password_file with TEST_MQTT_USER */
    TEST_MQTT_TLS,      /* a TLS listener with the test CA's server certificate, anonymous */
    TEST_MQTT_ACL /* as TEST_MQTT_AUTH, and TEST_MQTT_USER may use TEST_MQTT_ACL_TOPICS only */
};

#define TEST_MQTT_ACL_TOPICS "assay/#"

struct test_mqtt_broker {
    pid_t pid;
    uint16_t port;
    char dir[128];      /* the temporary directory: conf, log, certificates */
    char ca[192];       /* dir/ca.crt: the CA that signed the server certificate (TLS) */
    char other_ca[192]; /* dir/other.crt: an unrelated CA (TLS) */
    char log[192];      /* mosquitto's stderr */
};

/* A transcript sink for the tests: keeps "event: summary" lines in test_mqtt_log_text (what
 * fits) and counts its entries; test_mqtt_log_reset() empties both. */
extern const struct transcript_sink test_mqtt_log_sink;
extern char test_mqtt_log_text[65536];
extern int test_mqtt_log_entries;
void test_mqtt_log_reset(void);

/* Starts a broker. Returns 0, or -1 with a message on stderr. */
int test_mqtt_broker_start(struct test_mqtt_broker *b, enum test_mqtt_kind kind);

/* SIGTERM, waitpid, remove the directory. Safe on a broker that did not start. */
void test_mqtt_broker_stop(struct test_mqtt_broker *b);

/* Runs argv (PATH search) with output to /dev/null and waits; returns the exit status or -1. */
int test_mqtt_run(const char *const argv[]);

/* A port with nothing listening on 127.0.0.1 (bound to port 0, then closed). */
uint16_t test_mqtt_closed_port(void);

/* A listening socket on 127.0.0.1 that never accepts or answers; returns the fd, port in *port. */
int test_mqtt_silent_listener(uint16_t *port);

#endif

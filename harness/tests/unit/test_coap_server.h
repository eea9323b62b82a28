/*
 * test_coap_server.h: a small libcoap server for the CoAP driver's tests,
 * run in a forked child on 127.0.0.1 with ports chosen by the kernel.
 *
 * Resources: /hello (GET: "hello world", text/plain, rt="greeting"),
 * /big (GET: TEST_COAP_BIG_LEN bytes of test_coap_big_byte(i), served
 * block-wise), /store (GET the stored body or 4.04; PUT 2.04, POST 2.01,
 * DELETE 2.02; bodies up to 8 KiB, Block1 handled by libcoap), /obs (GET,
 * attribute obs). A NoSec endpoint and a DTLS endpoint: DTLS-PSK (key
 * TEST_COAP_PSK_KEY, any identity), or, started with
 * test_coap_server_start_pki(), DTLS with certificates only.
 */
#ifndef ASSAY_TEST_COAP_SERVER_H
#define ASSAY_TEST_COAP_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define TEST_COAP_PSK_KEY "test-psk-key-0123"
#define TEST_COAP_BIG_LEN 5000

struct test_coap_server {
    pid_t pid;
    uint16_t udp_port;
    uint16_t dtls_port;
};

/* The byte at offset i of /big. */
uint8_t test_coap_big_byte(size_t i);

/* Forks the server and waits (up to 5 s) for its ports. Returns 0 or -1. */
int test_coap_server_start(struct test_coap_server *s);

/* Writes a test PKI into `dir` (EC P-256, valid for 30 days): ca.pem (CN
 * assay-test-ca), other-ca.pem (an unrelated CA), server.pem/server.key (CN
 * coap-test-server, IP SAN 127.0.0.1, issued by ca) and client.pem/client.key
 * (CN coap-test-client, issued by ca). Returns 0 or -1. */
int test_coap_make_certs(const char *dir);

/* As test_coap_server_start, but the DTLS endpoint offers certificates only
 * (server.pem/server.key from `dir`); with require_client_cert, the client
 * must present a certificate issued by ca.pem. */
int test_coap_server_start_pki(struct test_coap_server *s, const char *dir,
                               bool require_client_cert);

/* Kills the child by pid and reaps it. */
void test_coap_server_stop(struct test_coap_server *s);

/* A bound UDP socket on 127.0.0.1 that never answers (its port in *port); close() it. */
int test_coap_silent_socket(uint16_t *port);

/* A 127.0.0.1 UDP port with nothing bound to it (bound, then closed). */
uint16_t test_coap_closed_port(void);

#endif

/*
 * test_coap_server.h: a small libcoap server for the CoAP driver's tests,
 * run in a forked child on 127.0.0.1 with ports chosen by the kernel.
 *
 * Resources: /hello (GET: "hello world", text/plain, rt="greeting"),
 * /big (GET: TEST_COAP_BIG_LEN bytes of test_coap_big_byte(i), served
 * block-wise), /store (GET the stored body or 4.04; PUT 2.04, POST 2.01,
 * DELETE 2.02; bodies up to 8 KiB, Block1 handled by libcoap), /obs (GET,
 * attribute obs). A NoSec endpoint and a DTLS-PSK endpoint (key
 * TEST_COAP_PSK_KEY, any identity).
 */
#ifndef ASSAY_TEST_COAP_SERVER_H
#define ASSAY_TEST_COAP_SERVER_H

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

/* Kills the child by pid and reaps it. */
void test_coap_server_stop(struct test_coap_server *s);

/* A bound UDP socket on 127.0.0.1 that never answers (its port in *port); close() it. */
int test_coap_silent_socket(uint16_t *port);

/* A 127.0.0.1 UDP port with nothing bound to it (bound, then closed). */
uint16_t test_coap_closed_port(void);

#endif

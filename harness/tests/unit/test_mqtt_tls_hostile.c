/*
 * test_mqtt_tls_hostile.c: the MQTT driver's raw engine over TLS against a
 * hostile TLS broker run in a thread of the test (OpenSSL, a self-signed
 * certificate for 127.0.0.1 made in memory): a CONNACK declaring 256 MB
 * followed by filler, a retained-message flood after SUBACK, and a PUBLISH
 * declaring 256 MB. Each must end within its deadline with the device's
 * behaviour as data (a transport failure saying "not a CONNACK", a
 * collection stopped at its message or byte cap), and the process must not
 * grow by what the device declares. Each attack is played in MQTT 3.1.1 and
 * in MQTT 5 (packets with property lengths), and a CONNACK with malformed
 * MQTT 5 properties is an observation, not a failure. Also: verification
 * against the right and a wrong CA file, and the key log.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "drivers/mqtt.h"

enum attack { HUGE_CONNACK, FLOOD, HUGE_PUBLISH, BAD_PROPS, V5_SCRIPT };

static struct scope scope;
static EVP_PKEY *key, *other_key;
static X509 *cert, *other_cert;
static char ca_path[64], other_ca_path[64], keylog_path[64];
static int lfd = -1;
static uint16_t port;
static enum attack mode;
static int proto; /* the MQTT version the broker thread speaks: 4 or 5 */
static pthread_t thread;

static X509 *self_signed(EVP_PKEY *k, const char *cn)
{
    X509 *x = X509_new();
    X509V3_CTX ctx;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
    X509_add_ext(x, san, -1);
    X509_EXTENSION_free(san);
    X509_sign(x, k, EVP_sha256());
    return x;
}

static void write_pem(X509 *x, char *path)
{
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    PEM_write_X509(f, x);
    fclose(f);
}

static int put_all(SSL *ssl, const void *b, size_t n)
{
    size_t w = 0;
    return SSL_write_ex(ssl, b, n, &w) == 1 && w == n ? 0 : -1;
}

/* Reads one packet (small ones only) and returns its first byte, or -1. */
static int get_packet(SSL *ssl, uint8_t *body, size_t cap, size_t *n)
{
    uint8_t h[5];
    size_t r = 0, rem = 0, mul = 1;
    if (SSL_read_ex(ssl, h, 1, &r) != 1)
        return -1;
    for (int i = 1; i < 5; i++, mul *= 128) {
        if (SSL_read_ex(ssl, h + i, 1, &r) != 1)
            return -1;
        rem += (size_t)(h[i] & 0x7f) * mul;
        if (!(h[i] & 0x80))
            break;
    }
    if (rem > cap)
        return -1;
    for (size_t got = 0; got < rem; got += r)
        if (SSL_read_ex(ssl, body + got, rem - got, &r) != 1)
            return -1;
    *n = rem;
    return h[0];
}

/* MQTT 5 as a broker may speak it: CONNACK properties, SUBACK refusals with a Reason String,
 * a PUBLISH with properties, and at the third SUBSCRIBE a DISCONNECT "session taken over". */
static void v5_script(SSL *ssl)
{
    static const uint8_t connack[] = {0x20, 0x18, 0x00, 0x00, 0x15, /* props: 21 bytes */
                                      0x12, 0x00, 0x08, 'b',  'e',  'n',
                                      'c',  'h',  '-',  '4',  '2',  /* assigned id */
                                      0x13, 0x00, 0x05,             /* server keep alive */
                                      0x27, 0x00, 0x00, 0x03, 0xe8, /* max packet 1000 */
                                      0x25, 0x00};                  /* retain unavailable */
    static const uint8_t publish[] = {0x30, 0x20, 0x00, 0x04, 'v',  '5', '/', 'x', /* topic */
                                      0x14,                                        /* props */
                                      0x01, 0x01,                                  /* format */
                                      0x03, 0x00, 0x0a, 't',  'e',  'x', 't', '/',
                                      'p',  'l',  'a',  'i',  'n',  /* type */
                                      0x26, 0x00, 0x00, 0x00, 0x00, /* user */
                                      'h',  'e',  'l',  'l',  'o'};
    static const uint8_t disconnect[] = {0xe0, 0x02, 0x8e, 0x00};
    uint8_t body[512];
    size_t n;
    if (put_all(ssl, connack, sizeof connack) || get_packet(ssl, body, sizeof body, &n) != 0x82)
        return;
    uint8_t suback1[] = {0x90, 0x0b, body[0], body[1], 0x06, 0x1f, 0x00,
                         0x03, 'n',  'o',     '!',     0x00, 0x87};
    if (put_all(ssl, suback1, sizeof suback1) || put_all(ssl, publish, sizeof publish) ||
        get_packet(ssl, body, sizeof body, &n) != 0x82)
        return;
    uint8_t suback2[] = {0x90, 0x04, body[0], body[1], 0x00, 0x87};
    if (put_all(ssl, suback2, sizeof suback2) || get_packet(ssl, body, sizeof body, &n) != 0x82)
        return;
    put_all(ssl, disconnect, sizeof disconnect);
}

static void attack(SSL *ssl)
{
    static const uint8_t connack[] = {0x20, 0x02, 0x00, 0x00};
    static const uint8_t connack5[] = {0x20, 0x03, 0x00, 0x00, 0x00};
    /* a Reason String holding an ESC, then property 0x7f, which MQTT 5 does not define */
    static const uint8_t bad_props[] = {0x20, 0x0d, 0x00, 0x00, 0x0a, 0x1f, 0x00, 0x05,
                                        0x1b, '[',  '2',  'J',  'x',  0x7f, 0x00};
    static const uint8_t huge[] = {0x20, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x00};
    static uint8_t chunk[16384];
    uint8_t body[512];
    size_t n;
    if (get_packet(ssl, body, sizeof body, &n) != 0x10)
        return;
    if (mode == HUGE_CONNACK) {
        memset(chunk, 'A', sizeof chunk);
        if (put_all(ssl, huge, sizeof huge))
            return;
        for (int i = 0; i < 4096 && put_all(ssl, chunk, sizeof chunk) == 0; i++) {
        }
        return;
    }
    if (mode == V5_SCRIPT) {
        v5_script(ssl);
        return;
    }
    if (mode == BAD_PROPS) {
        put_all(ssl, bad_props, sizeof bad_props);
        get_packet(ssl, body, sizeof body, &n); /* the DISCONNECT */
        return;
    }
    if ((proto == 5 ? put_all(ssl, connack5, sizeof connack5)
                    : put_all(ssl, connack, sizeof connack)) ||
        get_packet(ssl, body, sizeof body, &n) != 0x82)
        return;
    uint8_t suback[] = {0x90, 0x03, body[0], body[1], 0x00};
    uint8_t suback5[] = {0x90, 0x04, body[0], body[1], 0x00, 0x00};
    if (proto == 5 ? put_all(ssl, suback5, sizeof suback5) : put_all(ssl, suback, sizeof suback))
        return;
    if (mode == HUGE_PUBLISH) {
        static const uint8_t pub[] = {0x31, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x03, 'b', 'i', 'g'};
        static const uint8_t no_props[] = {0x00};
        memset(chunk, 'B', sizeof chunk);
        if (put_all(ssl, pub, sizeof pub) || (proto == 5 && put_all(ssl, no_props, 1)))
            return;
        for (int i = 0; i < 16384 && put_all(ssl, chunk, sizeof chunk) == 0; i++) {
        }
        return;
    }
    for (unsigned seq = 0; seq < 1000000; seq++) { /* retained flood: "flood/<n>", 100 bytes */
        uint8_t f[160];
        int tl = snprintf((char *)f + 4, 32, "flood/%u", seq);
        int np = proto == 5; /* MQTT 5: an empty property length after the topic */
        f[0] = 0x31;
        f[1] = (uint8_t)(2 + tl + np + 100);
        f[2] = 0;
        f[3] = (uint8_t)tl;
        f[4 + tl] = 0;
        memset(f + 4 + tl + np, 'f', 100);
        if (put_all(ssl, f, (size_t)(4 + tl + np + 100)))
            return;
    }
}

static void *serve(void *arg)
{
    (void)arg;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx, cert);
    SSL_CTX_use_PrivateKey(ctx, key);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1)
        attack(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return NULL;
}

static void start(enum attack a, int version)
{
    mode = a;
    proto = version;
    assert_int_equal(pthread_create(&thread, NULL, serve, NULL), 0);
}

static struct mqttdrv_target target(int timeout_ms)
{
    return (struct mqttdrv_target){
        .host = "127.0.0.1", .port = port, .scope = &scope, .timeout_ms = timeout_ms};
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int setup(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    scope_init(&scope);
    if (scope_add(&scope, "127.0.0.1", NULL) != 0)
        return -1;
    key = EVP_EC_gen("P-256");
    other_key = EVP_EC_gen("P-256");
    cert = self_signed(key, "hostile");
    other_cert = self_signed(other_key, "someone else");
    snprintf(ca_path, sizeof ca_path, "/tmp/assay-tls-hostile-ca.XXXXXX");
    snprintf(other_ca_path, sizeof other_ca_path, "/tmp/assay-tls-hostile-other.XXXXXX");
    snprintf(keylog_path, sizeof keylog_path, "/tmp/assay-tls-hostile-keys.XXXXXX");
    write_pem(cert, ca_path);
    write_pem(other_cert, other_ca_path);
    close(mkstemp(keylog_path));
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 4) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    port = ntohs(a.sin_port);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    close(lfd);
    unlink(ca_path);
    unlink(other_ca_path);
    unlink(keylog_path);
    X509_free(cert);
    X509_free(other_cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other_key);
    scope_release(&scope);
    return 0;
}

static struct mqttdrv_connect_opts tls_opts(const char *ca, bool verify, int version)
{
    return (struct mqttdrv_connect_opts){
        .version = version,
        .client_id = "hostile-test",
        .tls = {.enabled = true, .ca_file = ca, .verify = verify, .keylog_path = keylog_path}};
}

/* A CONNACK declaring 268435455 bytes, then filler: "not a CONNACK", no 256 MB read. */
static void huge_connack(int version)
{
    struct mqttdrv_target t = target(2000);
    struct mqttdrv_connect_opts o = tls_opts(NULL, false, version);
    struct mqttdrv_session *s = NULL;
    struct mqttdrv_connack ack;
    struct assay_error err = {0};
    long before = maxrss_kb();
    start(HUGE_CONNACK, version);
    assert_int_equal(mqttdrv_session_open(&t, &o, &s, &ack, &err), 0);
    pthread_join(thread, NULL);
    assert_null(s);
    assert_int_equal(ack.outcome, MQTTDRV_TRANSPORT);
    assert_int_equal(ack.code, -1);
    assert_non_null(strstr(ack.detail, "not a CONNACK"));
    assert_true(ack.elapsed_ms < 2000);
    assert_true(maxrss_kb() - before < 64 * 1024);
}

static void test_huge_connack(void **state)
{
    (void)state;
    huge_connack(4);
    huge_connack(5);
}

/* Endless retained PUBLISH after SUBACK: the collection stops at its message cap. */
static void flood(int version)
{
    struct mqttdrv_target t = target(2000);
    struct mqttdrv_connect_opts o = tls_opts(ca_path, true, version);
    struct mqttdrv_session *s = NULL;
    struct mqttdrv_connack ack;
    struct mqttdrv_limits lim = {.max_messages = 500, .max_bytes = 1u << 20, .ms = 3000};
    struct mqttdrv_collect c;
    struct assay_error err = {0};
    const char *const filters[2] = {"#", "$SYS/#"};
    long before = maxrss_kb();
    start(FLOOD, version);
    assert_int_equal(mqttdrv_session_open(&t, &o, &s, &ack, &err), 0);
    assert_non_null(s);
    assert_true(mqttdrv_session_raw(s));
    assert_int_equal(mqttdrv_subscribe_many(s, filters, 2, 0, &lim, &c, &err), 0);
    mqttdrv_session_close(s);
    pthread_join(thread, NULL);
    assert_int_equal(c.suback_codes[0], 0);
    assert_int_equal(c.stop, MQTTDRV_STOP_COUNT);
    assert_int_equal(c.n, 500);
    assert_true(c.elapsed_ms < 3000);
    assert_string_equal(c.messages[499].topic, "flood/499");
    assert_int_equal(c.messages[0].full_len, 100);
    mqttdrv_collect_release(&c);
    assert_true(maxrss_kb() - before < 64 * 1024);
}

static void test_flood(void **state)
{
    (void)state;
    flood(4);
    flood(5);
}

/* A PUBLISH declaring 256 MB: kept up to the byte budget, the rest never read. */
static void huge_publish(int version)
{
    struct mqttdrv_target t = target(2000);
    struct mqttdrv_connect_opts o = tls_opts(NULL, false, version);
    struct mqttdrv_session *s = NULL;
    struct mqttdrv_connack ack;
    struct mqttdrv_limits lim = {.max_messages = 10, .max_bytes = 65536, .ms = 3000};
    struct mqttdrv_collect c;
    struct assay_error err = {0};
    long before = maxrss_kb();
    start(HUGE_PUBLISH, version);
    assert_int_equal(mqttdrv_session_open(&t, &o, &s, &ack, &err), 0);
    assert_non_null(s);
    assert_int_equal(mqttdrv_subscribe(s, "#", 0, &lim, &c, &err), 0);
    assert_false(mqttdrv_session_connected(s));
    mqttdrv_session_close(s);
    pthread_join(thread, NULL);
    assert_int_equal(c.stop, MQTTDRV_STOP_BYTES);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.messages[0].topic, "big");
    assert_int_equal(c.messages[0].len, 65536);
    assert_int_equal(c.messages[0].full_len, 268435455 - 5 - (version == 5));
    assert_non_null(strstr(c.detail, "the rest not read"));
    mqttdrv_collect_release(&c);
    assert_true(maxrss_kb() - before < 64 * 1024);
}

static void test_huge_publish(void **state)
{
    (void)state;
    huge_publish(4);
    huge_publish(5);
}

static char log_text[4096];

static void keep_entry(void *ctx, const struct transcript_entry *e)
{
    size_t o = strlen(log_text);
    (void)ctx;
    snprintf(log_text + o, sizeof log_text - o, "%s: %s\n", e->event, e->summary);
}

/* MQTT 5: a CONNACK whose properties are malformed (a property MQTT 5 does not define) is
 * what the broker sent: an acceptance with the fault in the detail and the transcript, the
 * hostile Reason String escaped. */
static void test_bad_props(void **state)
{
    static const struct transcript_sink sink = {keep_entry, NULL};
    struct mqttdrv_target t = target(2000);
    struct mqttdrv_connect_opts o = tls_opts(NULL, false, 5);
    struct mqttdrv_session *s = NULL;
    struct mqttdrv_connack ack;
    struct assay_error err = {0};
    (void)state;
    t.sink = &sink;
    log_text[0] = '\0';
    start(BAD_PROPS, 5);
    assert_int_equal(mqttdrv_session_open(&t, &o, &s, &ack, &err), 0);
    assert_non_null(s);
    assert_int_equal(ack.outcome, MQTTDRV_ACCEPTED);
    assert_non_null(strstr(ack.detail, "unknown property 0x7f"));
    mqttdrv_session_close(s);
    pthread_join(thread, NULL);
    assert_non_null(strstr(log_text, "malformed properties: unknown property 0x7f"));
    assert_null(strchr(log_text, 0x1b));
}

/* MQTT 5 answers the raw engine must take as data: CONNACK properties honoured and recorded,
 * SUBACK reason codes per filter, a PUBLISH with properties, the broker's Maximum Packet Size,
 * and a DISCONNECT with its reason code. */
static void test_v5_script(void **state)
{
    static const struct transcript_sink sink = {keep_entry, NULL};
    struct mqttdrv_target t = target(2000);
    struct mqttdrv_connect_opts o = tls_opts(NULL, false, 5);
    struct mqttdrv_session *s = NULL;
    struct mqttdrv_connack ack;
    struct mqttdrv_limits lim = {.max_messages = 1, .ms = 1500};
    struct mqttdrv_collect c;
    struct assay_error err = {0};
    const char *const filters[2] = {"v5/#", "secret/#"};
    static uint8_t big[2000];
    (void)state;
    t.sink = &sink;
    log_text[0] = '\0';
    start(V5_SCRIPT, 5);
    assert_int_equal(mqttdrv_session_open(&t, &o, &s, &ack, &err), 0);
    assert_non_null(s);
    assert_int_equal(ack.code, 0);
    assert_string_equal(ack.detail, "");
    assert_non_null(strstr(log_text, "assigned client id=bench-42, server keep alive=5, "
                                     "maximum packet size=1000, retain available=0"));
    /* one filter granted, one refused: the collection runs */
    assert_int_equal(mqttdrv_subscribe_many(s, filters, 2, 0, &lim, &c, &err), 0);
    assert_int_equal(c.suback_codes[0], 0);
    assert_int_equal(c.suback_codes[1], 0x87);
    assert_int_equal(c.stop, MQTTDRV_STOP_COUNT);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.messages[0].topic, "v5/x");
    assert_int_equal(c.messages[0].len, 5);
    assert_memory_equal(c.messages[0].payload, "hello", 5);
    assert_non_null(strstr(log_text, "SUBACK properties: reason string=no!"));
    mqttdrv_collect_release(&c);
    /* every filter refused: nothing collected */
    assert_int_equal(mqttdrv_subscribe(s, "secret/#", 0, &lim, &c, &err), 0);
    assert_int_equal(c.suback_code, 0x87);
    assert_int_equal(c.stop, MQTTDRV_STOP_REFUSED);
    mqttdrv_collect_release(&c);
    /* larger than the broker's Maximum Packet Size: not sent */
    assert_int_equal(mqttdrv_publish(s, "v5/big", big, sizeof big, 0, false, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "Maximum Packet Size"));
    /* the broker's DISCONNECT ends the next collection with its reason */
    assert_int_equal(mqttdrv_subscribe(s, "v5/y", 0, &lim, &c, &err), 0);
    assert_int_equal(c.stop, MQTTDRV_STOP_LOST);
    assert_non_null(strstr(c.detail, "DISCONNECT (reason 0x8e, session taken over)"));
    assert_false(mqttdrv_session_connected(s));
    mqttdrv_collect_release(&c);
    mqttdrv_session_close(s);
    pthread_join(thread, NULL);
}

/* verify with a CA that did not sign the certificate: a TLS failure, and the key log was written.
 */
static void test_wrong_ca(void **state)
{
    struct mqttdrv_target t = target(2000);
    struct mqttdrv_connect_opts o = tls_opts(other_ca_path, true, 4);
    struct mqttdrv_session *s = NULL;
    struct mqttdrv_connack ack;
    struct assay_error err = {0};
    (void)state;
    start(FLOOD, 4);
    assert_int_equal(mqttdrv_session_open(&t, &o, &s, &ack, &err), 0);
    pthread_join(thread, NULL);
    assert_null(s);
    assert_int_equal(ack.outcome, MQTTDRV_TRANSPORT);
    assert_non_null(strstr(ack.detail, "certificate verify failed"));
    FILE *f = fopen(keylog_path, "r");
    char line[256] = "";
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_true(strncmp(line, "CLIENT_", 7) == 0 || strncmp(line, "SERVER_", 7) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_connack), cmocka_unit_test(test_flood),
        cmocka_unit_test(test_huge_publish), cmocka_unit_test(test_bad_props),
        cmocka_unit_test(test_v5_script),    cmocka_unit_test(test_wrong_ca),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

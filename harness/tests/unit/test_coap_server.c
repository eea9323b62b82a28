/* test_coap_server.c: the forked libcoap server the CoAP driver's tests talk to (see the header).
 */
#include "test_coap_server.h"

#include <arpa/inet.h>
#include <coap3/coap.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static uint8_t stored[8192];
static size_t stored_len;
static int have_stored;

uint8_t test_coap_big_byte(size_t i)
{
    return (uint8_t)('a' + (i * 7 + i / 1024) % 26);
}

static void h_hello(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                    const coap_string_t *q, coap_pdu_t *rsp)
{
    uint8_t buf[4];
    (void)r, (void)s, (void)req, (void)q;
    coap_pdu_set_code(rsp, COAP_RESPONSE_CODE_CONTENT);
    coap_add_option(rsp, COAP_OPTION_CONTENT_FORMAT,
                    coap_encode_var_safe(buf, sizeof buf, COAP_MEDIATYPE_TEXT_PLAIN), buf);
    coap_add_data(rsp, 11, (const uint8_t *)"hello world");
}

static void h_big(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                  const coap_string_t *q, coap_pdu_t *rsp)
{
    static uint8_t big[TEST_COAP_BIG_LEN];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = test_coap_big_byte(i);
    coap_pdu_set_code(rsp, COAP_RESPONSE_CODE_CONTENT);
    coap_add_data_large_response(r, s, req, rsp, q, COAP_MEDIATYPE_TEXT_PLAIN, -1, 0, sizeof big,
                                 big, NULL, NULL);
}

static void h_store_get(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                        const coap_string_t *q, coap_pdu_t *rsp)
{
    if (!have_stored) {
        coap_pdu_set_code(rsp, COAP_RESPONSE_CODE_NOT_FOUND);
        return;
    }
    coap_pdu_set_code(rsp, COAP_RESPONSE_CODE_CONTENT);
    coap_add_data_large_response(r, s, req, rsp, q, COAP_MEDIATYPE_APPLICATION_OCTET_STREAM, -1, 0,
                                 stored_len, stored, NULL, NULL);
}

static void h_store_put(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                        const coap_string_t *q, coap_pdu_t *rsp)
{
    size_t len = 0, off = 0, total = 0;
    const uint8_t *data = NULL;
    coap_opt_iterator_t it;
    coap_opt_t *b1 = coap_check_option(req, COAP_OPTION_BLOCK1, &it);
    int more = 0;
    (void)r, (void)s, (void)q;
    coap_get_data_large(req, &len, &data, &off, &total);
    if (b1) { /* libcoap 4.3.1 hands each Block1 block to the handler */
        off = (size_t)coap_opt_block_num(b1) << (COAP_OPT_BLOCK_SZX(b1) + 4);
        more = COAP_OPT_BLOCK_MORE(b1) != 0;
    }
    if (off + len > sizeof stored) {
        coap_pdu_set_code(rsp, COAP_RESPONSE_CODE_REQUEST_TOO_LARGE);
        return;
    }
    if (len)
        memcpy(stored + off, data, len);
    stored_len = off + len;
    have_stored = 1;
    if (more) {
        coap_add_option(rsp, COAP_OPTION_BLOCK1, coap_opt_length(b1), coap_opt_value(b1));
        coap_pdu_set_code(rsp, COAP_RESPONSE_CODE_CONTINUE);
        return;
    }
    coap_pdu_set_code(rsp, coap_pdu_get_code(req) == COAP_REQUEST_CODE_POST
                               ? COAP_RESPONSE_CODE_CREATED
                               : COAP_RESPONSE_CODE_CHANGED);
}

static void h_store_delete(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                           const coap_string_t *q, coap_pdu_t *rsp)
{
    (void)r, (void)s, (void)req, (void)q;
    have_stored = 0;
    stored_len = 0;
    coap_pdu_set_code(rsp, COAP_RESPONSE_CODE_DELETED);
}

static void add_resources(coap_context_t *ctx)
{
    coap_resource_t *r = coap_resource_init(coap_make_str_const("hello"), 0);
    coap_register_handler(r, COAP_REQUEST_GET, h_hello);
    coap_add_attr(r, coap_make_str_const("rt"), coap_make_str_const("\"greeting\""), 0);
    coap_add_resource(ctx, r);
    r = coap_resource_init(coap_make_str_const("big"), 0);
    coap_register_handler(r, COAP_REQUEST_GET, h_big);
    coap_add_attr(r, coap_make_str_const("sz"), coap_make_str_const("5000"), 0);
    coap_add_resource(ctx, r);
    r = coap_resource_init(coap_make_str_const("store"), 0);
    coap_register_handler(r, COAP_REQUEST_GET, h_store_get);
    coap_register_handler(r, COAP_REQUEST_PUT, h_store_put);
    coap_register_handler(r, COAP_REQUEST_POST, h_store_put);
    coap_register_handler(r, COAP_REQUEST_DELETE, h_store_delete);
    coap_add_resource(ctx, r);
    r = coap_resource_init(coap_make_str_const("obs"), 0);
    coap_register_handler(r, COAP_REQUEST_GET, h_hello);
    coap_resource_set_get_observable(r, 1);
    coap_add_resource(ctx, r);
}

static uint16_t endpoint_port(coap_endpoint_t *ep)
{
    const char *s = coap_endpoint_str(ep);
    const char *colon = s ? strrchr(s, ':') : NULL;
    return colon ? (uint16_t)strtoul(colon + 1, NULL, 10) : 0;
}

/* Where the PKI server's certificates are; NULL: the DTLS endpoint uses PSK. */
struct pki_files {
    const char *dir;
    bool require_client_cert;
};

static void set_security(coap_context_t *ctx, const struct pki_files *pki)
{
    static char ca[512], cert[512], key[512];
    coap_dtls_spsk_t psk;
    coap_dtls_pki_t setup;
    if (!pki) {
        memset(&psk, 0, sizeof psk);
        psk.version = COAP_DTLS_SPSK_SETUP_VERSION;
        psk.psk_info.key.s = (const uint8_t *)TEST_COAP_PSK_KEY;
        psk.psk_info.key.length = strlen(TEST_COAP_PSK_KEY);
        coap_context_set_psk2(ctx, &psk);
        return;
    }
    snprintf(ca, sizeof ca, "%s/ca.pem", pki->dir);
    snprintf(cert, sizeof cert, "%s/server.pem", pki->dir);
    snprintf(key, sizeof key, "%s/server.key", pki->dir);
    memset(&setup, 0, sizeof setup);
    setup.version = COAP_DTLS_PKI_SETUP_VERSION;
    setup.verify_peer_cert = pki->require_client_cert;
    setup.check_common_ca = pki->require_client_cert;
    setup.pki_key.key_type = COAP_PKI_KEY_PEM;
    setup.pki_key.key.pem.ca_file = ca;
    setup.pki_key.key.pem.public_cert = cert;
    setup.pki_key.key.pem.private_key = key;
    if (!coap_context_set_pki(ctx, &setup))
        _exit(4);
}

static void serve(int fd, const struct pki_files *pki)
{
    coap_address_t a;
    coap_endpoint_t *udp, *dtls;
    coap_context_t *ctx;
    char line[64];
    int n;
    coap_startup();
    coap_set_log_level(LOG_EMERG);
    coap_dtls_set_log_level(LOG_EMERG);
    ctx = coap_new_context(NULL);
    coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    set_security(ctx, pki);
    coap_address_init(&a);
    a.addr.sin.sin_family = AF_INET;
    a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.addr.sin.sin_port = 0;
    a.size = sizeof(struct sockaddr_in);
    udp = coap_new_endpoint(ctx, &a, COAP_PROTO_UDP);
    dtls = coap_new_endpoint(ctx, &a, COAP_PROTO_DTLS);
    if (!udp || !dtls)
        _exit(2);
    add_resources(ctx);
    n = snprintf(line, sizeof line, "%u %u\n", endpoint_port(udp), endpoint_port(dtls));
    if (write(fd, line, (size_t)n) != n)
        _exit(3);
    close(fd);
    for (;;)
        coap_io_process(ctx, 1000);
}

static int start(struct test_coap_server *s, const struct pki_files *pki)
{
    int p[2];
    char line[64] = {0};
    unsigned u = 0, d = 0;
    struct pollfd pf;
    ssize_t n;
    if (pipe(p) < 0)
        return -1;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(p[0]);
        serve(p[1], pki);
        _exit(0);
    }
    close(p[1]);
    pf = (struct pollfd){.fd = p[0], .events = POLLIN};
    n = poll(&pf, 1, 5000) == 1 ? read(p[0], line, sizeof line - 1) : -1;
    close(p[0]);
    if (n <= 0 || sscanf(line, "%u %u", &u, &d) != 2 || !u || !d) {
        test_coap_server_stop(s);
        return -1;
    }
    s->udp_port = (uint16_t)u;
    s->dtls_port = (uint16_t)d;
    return 0;
}

int test_coap_server_start(struct test_coap_server *s)
{
    return start(s, NULL);
}

int test_coap_server_start_pki(struct test_coap_server *s, const char *dir,
                               bool require_client_cert)
{
    struct pki_files pki = {.dir = dir, .require_client_cert = require_client_cert};
    return start(s, &pki);
}

void test_coap_server_stop(struct test_coap_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

static int bound_socket(uint16_t *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

int test_coap_silent_socket(uint16_t *port)
{
    return bound_socket(port);
}

uint16_t test_coap_closed_port(void)
{
    uint16_t port = 0;
    int fd = bound_socket(&port);
    if (fd >= 0)
        close(fd);
    return port;
}

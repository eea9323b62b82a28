/*
 * test_coap_pki.c: the CoAP driver's DTLS certificate probe and its t.coap
 * binding, against forked libcoap servers offering certificates (one that
 * requires a client certificate) and one offering PSK only, with a test PKI
 * generated per run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/coap.h"
#include "lua/bind_coap.h"
#include "test_coap_server.h"

static struct test_coap_server pki_server, mutual_server, psk_server;
static struct scope scope;
static char dir[] = "/tmp/assay-coap-pki.XXXXXX";
static char path_ca[600], path_other[600], path_ccert[600], path_ckey[600];

static void path(char *out, const char *file)
{
    snprintf(out, 600, "%s/%s", dir, file);
}

static int setup(void **state)
{
    (void)state;
    scope_init(&scope);
    if (scope_add(&scope, "127.0.0.1", NULL) || !mkdtemp(dir) || test_coap_make_certs(dir))
        return -1;
    path(path_ca, "ca.pem");
    path(path_other, "other-ca.pem");
    path(path_ccert, "client.pem");
    path(path_ckey, "client.key");
    if (test_coap_server_start_pki(&pki_server, dir, false) ||
        test_coap_server_start_pki(&mutual_server, dir, true) ||
        test_coap_server_start(&psk_server))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    static const char *const files[] = {"ca.pem",     "other-ca.pem", "server.pem",
                                        "server.key", "client.pem",   "client.key"};
    char p[600];
    (void)state;
    test_coap_server_stop(&pki_server);
    test_coap_server_stop(&mutual_server);
    test_coap_server_stop(&psk_server);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        path(p, files[i]);
        unlink(p);
    }
    rmdir(dir);
    scope_release(&scope);
    return 0;
}

static int probe(uint16_t port, const struct coapdrv_pki *pki, struct coapdrv_dtls_result *r)
{
    struct coapdrv_target t = {.host = "127.0.0.1",
                               .port = port,
                               .scope = &scope,
                               .timeout_ms = 2000,
                               .max_retransmit = -1};
    struct assay_error err = {0};
    int rc = coapdrv_dtls_probe_pki(&t, pki, r, &err);
    if (rc)
        print_message("probe: %s\n", err.msg);
    return rc;
}

/* No client certificate, verified against the right CA. */
static void test_established_and_verified(void **state)
{
    struct coapdrv_pki pki = {.ca = path_ca};
    struct coapdrv_dtls_result r;
    (void)state;
    assert_int_equal(probe(pki_server.dtls_port, &pki, &r), 0);
    assert_int_equal(r.state, COAPDRV_DTLS_ESTABLISHED);
    assert_true(r.pki);
    assert_false(r.client_cert);
    assert_string_equal(r.version, "DTLSv1.2");
    assert_non_null(strstr(r.cipher, "ECDSA")); /* a certificate suite, not PSK */
    assert_null(strstr(r.cipher, "PSK"));
    assert_true(r.has_server_cert);
    assert_non_null(strstr(r.server_cert.subject, "CN=coap-test-server"));
    assert_non_null(strstr(r.server_cert.issuer, "CN=assay-test-ca"));
    assert_string_equal(r.server_cert.key_type, "EC");
    assert_int_equal(r.server_cert.key_bits, 256);
    assert_string_equal(r.server_cert.sig_alg, "ecdsa-with-SHA256");
    assert_false(r.server_cert.self_signed);
    assert_int_equal(strlen(r.server_cert.sha256), 64);
    assert_int_equal(strlen(r.server_cert.not_before), 20); /* 2026-01-31T12:00:00Z */
    assert_true(strcmp(r.server_cert.not_before, r.server_cert.not_after) < 0);
    assert_true(r.chain_len >= 1);
    assert_true(r.ca_checked);
    assert_true(r.verified);
    assert_string_equal(r.verify_error, "");
    assert_true(r.name_matches);
    print_message("negotiated %s %s; server certificate %s issued by %s, %s %d bits, until %s\n",
                  r.version, r.cipher, r.server_cert.subject, r.server_cert.issuer,
                  r.server_cert.key_type, r.server_cert.key_bits, r.server_cert.not_after);
}

/* The wrong CA: the handshake completes, verification does not; no CA: not checked. */
static void test_wrong_ca_and_no_ca(void **state)
{
    struct coapdrv_pki pki = {.ca = path_other};
    struct coapdrv_dtls_result r;
    char *pem = NULL;
    size_t len = 0;
    FILE *f;
    (void)state;
    assert_int_equal(probe(pki_server.dtls_port, &pki, &r), 0);
    assert_int_equal(r.state, COAPDRV_DTLS_ESTABLISHED);
    assert_true(r.ca_checked);
    assert_false(r.verified);
    assert_true(strlen(r.verify_error) > 0);
    pki.ca = NULL;
    assert_int_equal(probe(pki_server.dtls_port, &pki, &r), 0);
    assert_int_equal(r.state, COAPDRV_DTLS_ESTABLISHED);
    assert_true(r.has_server_cert);
    assert_false(r.ca_checked);
    assert_false(r.verified);
    /* the CA as PEM text rather than a path */
    f = fopen(path_ca, "r");
    assert_non_null(f);
    pem = calloc(1, 8192);
    assert_non_null(pem);
    len = fread(pem, 1, 8191, f);
    fclose(f);
    assert_true(len > 0);
    pki.ca = pem;
    assert_int_equal(probe(pki_server.dtls_port, &pki, &r), 0);
    assert_true(r.verified);
    free(pem);
}

/* A server requiring a client certificate: without one the handshake fails
 * (its certificate is still seen); with one issued by its CA it completes. */
static void test_client_certificate(void **state)
{
    struct coapdrv_pki pki = {.ca = path_ca};
    struct coapdrv_dtls_result r;
    (void)state;
    assert_int_equal(probe(mutual_server.dtls_port, &pki, &r), 0);
    assert_int_equal(r.state, COAPDRV_DTLS_REJECTED);
    assert_true(r.has_server_cert);
    assert_non_null(strstr(r.server_cert.subject, "CN=coap-test-server"));
    assert_true(r.verified);
    pki.cert = path_ccert;
    pki.key = path_ckey;
    assert_int_equal(probe(mutual_server.dtls_port, &pki, &r), 0);
    assert_int_equal(r.state, COAPDRV_DTLS_ESTABLISHED);
    assert_true(r.client_cert);
}

/* PSK only: a certificate handshake is rejected, with no certificate seen;
 * nothing listening: unreachable; bad arguments and files: errors. */
static void test_psk_only_and_errors(void **state)
{
    struct coapdrv_pki pki = {.ca = path_ca};
    struct coapdrv_dtls_result r;
    struct coapdrv_target t = {
        .host = "127.0.0.1", .port = 1, .scope = &scope, .timeout_ms = 500, .max_retransmit = -1};
    struct assay_error err = {0};
    (void)state;
    assert_int_equal(probe(psk_server.dtls_port, &pki, &r), 0);
    assert_int_equal(r.state, COAPDRV_DTLS_REJECTED);
    assert_false(r.has_server_cert);
    assert_false(r.ca_checked);
    t.port = test_coap_closed_port();
    assert_int_equal(coapdrv_dtls_probe_pki(&t, &pki, &r, &err), 0);
    assert_int_equal(r.state, COAPDRV_DTLS_UNREACHABLE);
    pki.cert = path_ccert; /* a certificate without its key */
    assert_int_equal(coapdrv_dtls_probe_pki(&t, &pki, &r, &err), ASSAY_EINVAL);
    pki = (struct coapdrv_pki){.ca = "/nonexistent/ca.pem"};
    assert_int_equal(coapdrv_dtls_probe_pki(&t, &pki, &r, &err), ASSAY_EIO);
    pki = (struct coapdrv_pki){.ca = "/etc/hostname"}; /* readable, not PEM */
    assert_int_equal(coapdrv_dtls_probe_pki(&t, &pki, &r, &err), ASSAY_EIO);
    t.host = "127.0.0.9";
    pki = (struct coapdrv_pki){0};
    assert_int_equal(coapdrv_dtls_probe_pki(&t, &pki, &r, &err), ASSAY_ESCOPE);
}

/* The same through t.coap.dtls_probe. */
static void test_binding(void **state)
{
    struct binding_env env = {.scope = &scope, .timeout_ms = 2000, .max_connections = 1};
    lua_State *L = luaL_newstate();
    const char *code =
        "local ep = { address = '127.0.0.1', dtls_port = PKI }\n"
        "local r = assert(coap.dtls_probe(ep, { pki = { ca = CA } }))\n"
        "assert(r.mode == 'pki' and r.established and r.version == 'DTLSv1.2', r.state)\n"
        "assert(r.server_cert.subject:find('CN=coap-test-server', 1, true))\n"
        "assert(r.server_cert.key_type == 'EC' and r.server_cert.key_bits == 256)\n"
        "assert(r.verified == true and r.ca_checked and r.name_matches and not r.client_cert)\n"
        "r = assert(coap.dtls_probe(ep, { pki = {} }))\n"
        "assert(r.established and r.ca_checked == false and r.verified == nil)\n"
        "ep.dtls_port = MUTUAL\n"
        "r = assert(coap.dtls_probe(ep, { pki = { ca = CA, cert = CERT, key = KEY } }))\n"
        "assert(r.established and r.client_cert)\n"
        "r = assert(coap.dtls_probe(ep, { pki = { ca = CA } }))\n"
        "assert(r.state == 'rejected' and r.server_cert)\n"
        "local ok, e = pcall(coap.dtls_probe, ep, { pki = { cert = CERT } })\n"
        "assert(not ok and e:find('key'))\n"
        "r, e = coap.dtls_probe(ep, { pki = { ca = '/nonexistent.pem' } })\n"
        "assert(r == nil and e:find('^error'))\n"
        "ep.dtls_port = PSK\n"
        "r = assert(coap.dtls_probe(ep, { pki = { ca = CA } }))\n"
        "assert(r.state == 'rejected' and r.server_cert == nil)\n";
    (void)state;
    assert_non_null(L);
    luaL_openlibs(L);
    bind_coap_push(L, &env);
    lua_setglobal(L, "coap");
    lua_pushinteger(L, pki_server.dtls_port);
    lua_setglobal(L, "PKI");
    lua_pushinteger(L, mutual_server.dtls_port);
    lua_setglobal(L, "MUTUAL");
    lua_pushinteger(L, psk_server.dtls_port);
    lua_setglobal(L, "PSK");
    lua_pushstring(L, path_ca);
    lua_setglobal(L, "CA");
    lua_pushstring(L, path_ccert);
    lua_setglobal(L, "CERT");
    lua_pushstring(L, path_ckey);
    lua_setglobal(L, "KEY");
    if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 0, 0) != LUA_OK) {
        print_error("lua: %s\n", lua_tostring(L, -1));
        lua_close(L);
        fail();
    }
    lua_close(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_established_and_verified),
        cmocka_unit_test(test_wrong_ca_and_no_ca),
        cmocka_unit_test(test_client_certificate),
        cmocka_unit_test(test_psk_only_and_errors),
        cmocka_unit_test(test_binding),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

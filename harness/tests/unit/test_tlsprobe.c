/* test_tlsprobe.c: the TLS probe against mosquitto's TLS listener and a TLS 1.0-only openssl
 * s_server. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drivers/tlsprobe.h"
#include "test_mqtt_broker.h"

static struct test_mqtt_broker tls;
static struct scope scope;

static struct mqttdrv_target target(uint16_t port)
{
    return (struct mqttdrv_target){
        .host = "127.0.0.1", .port = port, .scope = &scope, .sink = NULL, .timeout_ms = 5000};
}

static int setup(void **state)
{
    (void)state;
    scope_init(&scope);
    if (scope_add(&scope, "127.0.0.1", NULL) != 0)
        return -1;
    return test_mqtt_broker_start(&tls, TEST_MQTT_TLS);
}

static int teardown(void **state)
{
    (void)state;
    test_mqtt_broker_stop(&tls);
    scope_release(&scope);
    return 0;
}

static bool file_contains(const char *path, const char *needle)
{
    char buf[16384];
    FILE *f = fopen(path, "r");
    size_t n;
    if (!f)
        return false;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* mosquitto 2.0.11 on OpenSSL 3.0 with Debian's defaults: TLS 1.2 and 1.3 only. */
static void test_mosquitto_versions_and_chain(void **state)
{
    struct mqttdrv_target t = target(tls.port);
    struct tlsprobe_opts o = {.ca_file = tls.ca};
    struct tlsprobe_result r;
    struct assay_error err = {0};
    char keylog[256];
    (void)state;
    snprintf(keylog, sizeof keylog, "%s/keys.log", tls.dir);
    o.keylog_path = keylog;
    assert_int_equal(tlsprobe_run(&t, &o, &r, &err), 0);
    for (int v = 0; v < TLSPROBE_NVERSIONS; v++)
        print_message("%s: %s %s%s\n", tlsprobe_version_name((enum tlsprobe_version)v),
                      r.attempts[v].accepted ? "accepted" : "refused", r.attempts[v].cipher,
                      r.attempts[v].reason);
    assert_false(r.attempts[TLSPROBE_TLS10].accepted);
    assert_false(r.attempts[TLSPROBE_TLS11].accepted);
    assert_true(r.attempts[TLSPROBE_TLS10].tcp_connected);
    assert_true(r.attempts[TLSPROBE_TLS10].reason[0] != '\0');
    assert_true(r.attempts[TLSPROBE_TLS12].accepted);
    assert_true(r.attempts[TLSPROBE_TLS13].accepted);
    assert_non_null(strstr(r.attempts[TLSPROBE_TLS12].cipher, "ECDHE-ECDSA"));
    assert_int_equal(strncmp(r.attempts[TLSPROBE_TLS13].cipher, "TLS_", 4), 0);

    assert_true(r.nchain >= 1);
    assert_string_equal(r.chain[0].subject, "CN=assay-test-broker");
    assert_string_equal(r.chain[0].issuer, "CN=assay-test-ca");
    assert_string_equal(r.chain[0].key_type, "EC");
    assert_int_equal(r.chain[0].key_bits, 256);
    assert_string_equal(r.chain[0].sig_alg, "ecdsa-with-SHA256");
    assert_false(r.chain[0].self_signed);
    assert_int_equal(strlen(r.chain[0].sha256), 64);
    assert_int_equal(strlen(r.chain[0].not_after), 20);
    assert_true(r.ca_checked);
    assert_true(r.verified);
    assert_true(r.name_matches);
    /* NSS key log lines for both the TLS 1.2 and the TLS 1.3 sessions */
    assert_true(file_contains(keylog, "CLIENT_RANDOM "));
    assert_true(file_contains(keylog, "CLIENT_HANDSHAKE_TRAFFIC_SECRET "));

    o = (struct tlsprobe_opts){.ca_file = tls.other_ca};
    assert_int_equal(tlsprobe_run(&t, &o, &r, &err), 0);
    assert_true(r.attempts[TLSPROBE_TLS13].accepted); /* the probe never refuses a chain */
    assert_true(r.ca_checked);
    assert_false(r.verified);
    assert_true(r.verify_error[0] != '\0');
}

/* openssl s_server restricted to TLS 1.0 at security level 0: the probe must see TLS 1.0. */
static pid_t start_tls10_server(uint16_t *port)
{
    char crt[256], key[256], accept_arg[64];
    snprintf(crt, sizeof crt, "%s/server.crt", tls.dir);
    snprintf(key, sizeof key, "%s/server.key", tls.dir);
    for (int attempt = 0; attempt < 5; attempt++) {
        *port = test_mqtt_closed_port();
        snprintf(accept_arg, sizeof accept_arg, "127.0.0.1:%u", *port);
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_RDWR);
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
            execlp("openssl", "openssl", "s_server", "-accept", accept_arg, "-cert", crt, "-key",
                   key, "-tls1", "-cipher", "ALL:@SECLEVEL=0", "-quiet", (char *)NULL);
            _exit(127);
        }
        assay_ms deadline = clock_deadline(10000);
        while (clock_remaining_ms(deadline) > 0) {
            struct sockaddr_in a = {.sin_family = AF_INET,
                                    .sin_port = htons(*port),
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
            ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
            close(fd);
            if (ok)
                return pid;
            if (waitpid(pid, NULL, WNOHANG) == pid)
                break; /* exited (port taken): try another port */
            poll(NULL, 0, 10);
        }
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    return -1;
}

static void test_old_version_detected(void **state)
{
    uint16_t port;
    pid_t pid = start_tls10_server(&port);
    struct mqttdrv_target t = target(port);
    struct tlsprobe_result r;
    struct assay_error err = {0};
    (void)state;
    assert_true(pid > 0);
    assert_int_equal(tlsprobe_run(&t, NULL, &r, &err), 0);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    print_message("TLSv1.0: %s %s\n", r.attempts[0].cipher, r.attempts[0].reason);
    assert_true(r.attempts[TLSPROBE_TLS10].accepted);
    assert_true(r.attempts[TLSPROBE_TLS10].cipher[0] != '\0');
    assert_false(r.attempts[TLSPROBE_TLS12].accepted);
    assert_false(r.attempts[TLSPROBE_TLS13].accepted);
    assert_false(r.ca_checked);
    assert_true(r.nchain >= 1);
}

static void test_unreachable_and_scope(void **state)
{
    struct mqttdrv_target t = target(test_mqtt_closed_port());
    struct tlsprobe_result r;
    struct tlsprobe_opts bad = {.ca_file = "/nonexistent/ca.pem"};
    struct assay_error err = {0};
    (void)state;
    assert_int_equal(tlsprobe_run(&t, NULL, &r, &err), 0);
    for (int v = 0; v < TLSPROBE_NVERSIONS; v++) {
        assert_false(r.attempts[v].tcp_connected);
        assert_string_equal(r.attempts[v].reason, "tcp refused");
    }
    assert_int_equal(tlsprobe_run(&t, &bad, &r, &err), ASSAY_EIO);
    t.host = "127.0.0.4";
    assert_int_equal(tlsprobe_run(&t, NULL, &r, &err), ASSAY_ESCOPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mosquitto_versions_and_chain),
        cmocka_unit_test(test_old_version_detected),
        cmocka_unit_test(test_unreachable_and_scope),
    };
    return cmocka_run_group_tests_name("tlsprobe", tests, setup, teardown);
}

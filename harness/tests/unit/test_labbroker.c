/*
 * test_labbroker.c: the lab broker (drivers/labbroker.h) against real
 * mosquitto processes and paho clients (drivers/mqtt.h) standing in for a
 * device: what a CONNECT and a PUBLISH leave in the record, TLS with the lab
 * CA and with the untrusted certificate, the harness's own publish reaching a
 * subscriber, scope, a busy port, and a broker that dies with the process
 * that started it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/clock.h"
#include "drivers/labbroker.h"
#include "drivers/mqtt.h"
#include "test_mqtt_broker.h"

static struct scope scope;
static char cadir[64];
static char ca_file[128];

static int setup(void **state)
{
    (void)state;
    scope_init(&scope);
    scope_add(&scope, "127.0.0.1", NULL);
    snprintf(cadir, sizeof(cadir), "/tmp/assay-test-labca-XXXXXX");
    if (!mkdtemp(cadir))
        return -1;
    snprintf(ca_file, sizeof(ca_file), "%s/ca.crt", cadir);
    char key[128];
    snprintf(key, sizeof(key), "%s/ca.key", cadir);
    const char *const argv[] = {"openssl",
                                "req",
                                "-x509",
                                "-newkey",
                                "ec",
                                "-pkeyopt",
                                "ec_paramgen_curve:P-256",
                                "-nodes",
                                "-subj",
                                "/CN=test lab CA",
                                "-days",
                                "2",
                                "-keyout",
                                key,
                                "-out",
                                ca_file,
                                NULL};
    return test_mqtt_run(argv) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", cadir);
    if (system(cmd) != 0)
        return -1;
    scope_release(&scope);
    return 0;
}

static struct labbroker_opts opts(uint16_t port, enum labbroker_tls tls)
{
    return (struct labbroker_opts){.address = "127.0.0.1",
                                   .port = port,
                                   .tls = tls,
                                   .ca_file = ca_file,
                                   .timeout_ms = 5000,
                                   .scope = &scope};
}

static struct mqttdrv_target target(uint16_t port)
{
    return (struct mqttdrv_target){
        .host = "127.0.0.1", .port = port, .scope = &scope, .timeout_ms = 3000};
}

static void test_plain_connect_and_publish(void **state)
{
    (void)state;
    uint16_t port = test_mqtt_closed_port();
    struct labbroker_opts o = opts(port, LABBROKER_PLAIN);
    struct labbroker *b = NULL;
    struct assay_error err = {0};
    assert_int_equal(labbroker_start(&o, &b, &err), 0);

    struct mqttdrv_target t = target(port);
    struct mqttdrv_connect_opts co = {
        .client_id = "pl-3-PL3-000101", .username = "dev", .password = "pw\tx", .password_len = 4};
    struct mqttdrv_session *s = NULL;
    struct mqttdrv_connack ack;
    assert_int_equal(mqttdrv_session_open(&t, &co, &s, &ack, &err), 0);
    assert_non_null(s);
    assert_int_equal(
        mqttdrv_publish(s, "pl-3/PL3-000101/telemetry", "{\"w\": 40}", 9, 1, true, &err), 0);

    const struct labbroker_record *rec = NULL;
    struct labbroker_wait w = {.ms = 3000, .messages = 1};
    assert_int_equal(labbroker_collect(b, &w, &rec, &err), 0);
    assert_int_equal(rec->nconnects, 1);
    assert_string_equal(rec->connects[0].client_id, "pl-3-PL3-000101");
    assert_true(rec->connects[0].has_username);
    assert_string_equal(rec->connects[0].username, "dev");
    assert_int_equal(rec->connects[0].password_len, 4);
    assert_memory_equal(rec->connects[0].password, "pw\tx", 4);
    assert_int_equal(rec->nmessages, 1);
    assert_string_equal(rec->messages[0].topic, "pl-3/PL3-000101/telemetry");
    assert_int_equal(rec->messages[0].size, 9);
    assert_int_equal(rec->messages[0].kept, 9);
    assert_memory_equal(rec->messages[0].payload, "{\"w\": 40}", 9);
    assert_true(rec->messages[0].retained);
    assert_int_equal(rec->messages[0].qos, 1);
    assert_int_equal(rec->tcp_connections, 1); /* the readiness probe is not counted */
    mqttdrv_session_close(s);

    /* an anonymous client is recorded without username or password */
    struct mqttdrv_connect_opts anon = {.client_id = "anon-1"};
    assert_int_equal(mqttdrv_connect(&t, &anon, &ack, &err), 0);
    assert_int_equal(ack.outcome, MQTTDRV_ACCEPTED);
    w = (struct labbroker_wait){.ms = 3000, .connects = 2};
    assert_int_equal(labbroker_collect(b, &w, &rec, &err), 0);
    assert_int_equal(rec->nconnects, 2);
    assert_false(rec->connects[1].has_username);
    assert_null(rec->connects[1].password);

    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/record.tsv", labbroker_dir(b));
    struct labbroker_exit ex;
    labbroker_stop(b, &ex);
    assert_false(ex.killed);
    assert_true(WIFEXITED(ex.status) || WIFSIGNALED(ex.status));
    assert_int_equal(access(dir, F_OK), 0);
    labbroker_free(b);
    assert_int_not_equal(access(dir, F_OK), 0); /* a /tmp directory is removed */
}

static void test_tls_trusted_and_untrusted(void **state)
{
    (void)state;
    struct assay_error err = {0};
    struct mqttdrv_connack ack;
    struct mqttdrv_connect_opts co = {.client_id = "careful-1",
                                      .username = "u",
                                      .password = "p",
                                      .password_len = 1,
                                      .tls = {.enabled = true, .ca_file = ca_file, .verify = true}};
    const struct labbroker_record *rec = NULL;
    struct labbroker_wait w = {.ms = 3000, .connects = 1};

    uint16_t port = test_mqtt_closed_port();
    struct labbroker_opts o = opts(port, LABBROKER_TRUSTED);
    struct labbroker *b = NULL;
    assert_int_equal(labbroker_start(&o, &b, &err), 0);
    struct mqttdrv_target t = target(port);
    assert_int_equal(mqttdrv_connect(&t, &co, &ack, &err), 0);
    assert_int_equal(ack.outcome, MQTTDRV_ACCEPTED);
    assert_int_equal(labbroker_collect(b, &w, &rec, &err), 0);
    assert_int_equal(rec->nconnects, 1);
    char key[4200];
    snprintf(key, sizeof(key), "%s/trusted.key", labbroker_dir(b));
    assert_int_equal(access(key, F_OK), 0);
    labbroker_stop(b, NULL);
    assert_int_not_equal(access(key, F_OK), 0); /* the private key is deleted at stop */
    labbroker_free(b);

    port = test_mqtt_closed_port();
    o = opts(port, LABBROKER_UNTRUSTED);
    assert_int_equal(labbroker_start(&o, &b, &err), 0);
    t = target(port);
    assert_int_equal(mqttdrv_connect(&t, &co, &ack, &err), 0);
    assert_int_equal(ack.outcome, MQTTDRV_TRANSPORT); /* the client refuses the certificate */
    w.ms = 500;
    assert_int_equal(labbroker_collect(b, &w, &rec, &err), 0);
    assert_int_equal(rec->nconnects, 0);
    assert_int_equal(rec->tcp_connections, 1); /* but its attempt is seen */
    /* a client that checks nothing connects */
    co.tls.verify = false;
    co.tls.ca_file = NULL;
    assert_int_equal(mqttdrv_connect(&t, &co, &ack, &err), 0);
    assert_int_equal(ack.outcome, MQTTDRV_ACCEPTED);
    w.ms = 3000;
    assert_int_equal(labbroker_collect(b, &w, &rec, &err), 0);
    assert_int_equal(rec->nconnects, 1);
    assert_int_equal(rec->tcp_connections, 2);
    labbroker_free(b);
}

static void test_publish_reaches_subscriber(void **state)
{
    (void)state;
    struct assay_error err = {0};
    uint16_t port = test_mqtt_closed_port();
    struct labbroker_opts o = opts(port, LABBROKER_TRUSTED);
    struct labbroker *b = NULL;
    assert_int_equal(labbroker_start(&o, &b, &err), 0);
    struct mqttdrv_target t = target(port);
    struct mqttdrv_connect_opts co = {.client_id = "dev-cmd",
                                      .tls = {.enabled = true, .ca_file = ca_file, .verify = true}};
    struct mqttdrv_session *s = NULL;
    struct mqttdrv_connack ack;
    assert_int_equal(mqttdrv_session_open(&t, &co, &s, &ack, &err), 0);
    assert_non_null(s);
    struct mqttdrv_limits lim = {.ms = 300};
    struct mqttdrv_collect got;
    assert_int_equal(mqttdrv_subscribe(s, "m/+/cmd", 1, &lim, &got, &err), 0);
    mqttdrv_collect_release(&got);
    assert_int_equal(labbroker_publish(b, "m/1/cmd", "{\"relay\": \"off\"}", 16, 1, false, &err),
                     0);
    lim = (struct mqttdrv_limits){.ms = 2000, .max_messages = 1};
    assert_int_equal(mqttdrv_subscribe(s, "m/+/cmd", 1, &lim, &got, &err), 0);
    assert_int_equal(got.n, 1);
    assert_memory_equal(got.messages[0].payload, "{\"relay\": \"off\"}", 16);
    mqttdrv_collect_release(&got);
    mqttdrv_session_close(s);
    const struct labbroker_record *rec = NULL;
    struct labbroker_wait w = {.ms = 0};
    assert_int_equal(labbroker_collect(b, &w, &rec, &err), 0);
    assert_int_equal(rec->nconnects, 1); /* the harness's publisher is left out */
    assert_int_equal(rec->nmessages, 0);
    assert_int_equal(rec->tcp_connections, 1);
    labbroker_free(b);
}

static void test_refusals(void **state)
{
    (void)state;
    struct assay_error err = {0};
    struct labbroker *b = NULL;
    struct labbroker_opts o = opts(test_mqtt_closed_port(), LABBROKER_PLAIN);
    o.address = "127.0.0.9"; /* not in scope */
    assert_int_equal(labbroker_start(&o, &b, &err), ASSAY_ESCOPE);
    assert_null(b);

    o = opts(test_mqtt_closed_port(), LABBROKER_TRUSTED);
    o.ca_file = "/nonexistent/ca.crt";
    assert_int_equal(labbroker_start(&o, &b, &err), ASSAY_EINVAL);
    assert_null(b);

    /* a port already taken: mosquitto exits and its log says why */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    o = opts(ntohs(a.sin_port), LABBROKER_PLAIN);
    assert_int_equal(labbroker_start(&o, &b, &err), ASSAY_ENET);
    assert_non_null(strstr(err.msg, "exited at start"));
    assert_null(b);
    close(s);
}

/* A broker whose starter dies without stopping it goes with it (PR_SET_PDEATHSIG). */
static void test_dies_with_starter(void **state)
{
    (void)state;
    uint16_t port = test_mqtt_closed_port();
    pid_t child = fork();
    if (child == 0) {
        struct labbroker_opts o = opts(port, LABBROKER_PLAIN);
        struct labbroker *b = NULL;
        struct assay_error err = {0};
        _exit(labbroker_start(&o, &b, &err) == 0 ? 0 : 1); /* no stop: the process just ends */
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct mqttdrv_target t = target(port);
    struct mqttdrv_connect_opts co = {.client_id = "late"};
    struct mqttdrv_connack ack = {0};
    struct assay_error err = {0};
    assay_ms deadline = clock_deadline(5000);
    do {
        t.timeout_ms = 500;
        assert_int_equal(mqttdrv_connect(&t, &co, &ack, &err), 0);
    } while (ack.outcome == MQTTDRV_ACCEPTED && clock_remaining_ms(deadline) > 0);
    assert_int_equal(ack.outcome, MQTTDRV_TRANSPORT); /* nothing listens any more */
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_connect_and_publish),
        cmocka_unit_test(test_tls_trusted_and_untrusted),
        cmocka_unit_test(test_publish_reaches_subscriber),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_dies_with_starter),
    };
    return cmocka_run_group_tests_name("labbroker", tests, setup, teardown);
}

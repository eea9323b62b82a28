/*
 * test_capture_keylog.c: the TLS key log path in struct binding_env reaches
 * the MQTT TLS probe (t.mqtt.tls_probe), and with it tshark decrypts the
 * captured TLS 1.3 handshake (EncryptedExtensions is visible only once
 * decrypted). Against a real mosquitto TLS listener on 127.0.0.1. The
 * capture part needs root or CAP_NET_RAW and is skipped, saying so, without.
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
#include <sys/stat.h>
#include <unistd.h>

#include "evidence/capture.h"
#include "lua/bind_mqtt.h"
#include "test_mqtt_broker.h"

static struct test_mqtt_broker tls;
static struct scope scope;
static struct binding_env env;
static char run_dir[64];

static int setup(void **state)
{
    (void)state;
    char dev[128];
    snprintf(run_dir, sizeof(run_dir), "/tmp/assay-keylog-XXXXXX");
    if (!mkdtemp(run_dir))
        return -1;
    snprintf(dev, sizeof(dev), "%s/devices", run_dir);
    mkdir(dev, 0755);
    snprintf(dev, sizeof(dev), "%s/devices/dut", run_dir);
    mkdir(dev, 0755);
    scope_init(&scope);
    if (scope_add(&scope, "127.0.0.1", NULL) || test_mqtt_broker_start(&tls, TEST_MQTT_TLS))
        return -1;
    env = (struct binding_env){.scope = &scope, .timeout_ms = 4000, .max_connections = 1};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    test_mqtt_broker_stop(&tls);
    scope_release(&scope);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", run_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs t.mqtt.tls_probe against the test broker with env as it is now. */
static void probe(void)
{
    char code[256];
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    bind_mqtt_push(L, &env);
    lua_setglobal(L, "mqtt");
    snprintf(code, sizeof(code),
             "local p = assert(mqtt.tls_probe({address='127.0.0.1', port=%u, tls=true}))\n"
             "assert(p.versions['TLSv1.3'].accepted and p.versions['TLSv1.2'].accepted)\n",
             (unsigned)tls.port);
    if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 0, 0) != LUA_OK)
        fail_msg("lua: %s", lua_tostring(L, -1));
    lua_close(L);
}

static size_t count_lines_starting(const char *path, const char *prefix)
{
    char line[512];
    size_t n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        n += strncmp(line, prefix, strlen(prefix)) == 0;
    fclose(f);
    return n;
}

/* Frames on the broker's port that tshark shows as TLS 1.3 EncryptedExtensions. */
static int decrypted_frames(const char *pcap, const char *keylog)
{
    char cmd[1024], line[256];
    snprintf(cmd, sizeof(cmd),
             "tshark -n -r '%s' -o 'tls.keylog_file:%s' -d tcp.port==%u,tls "
             "-Y 'tcp.port==%u && tls.handshake.type==8' -T fields -e frame.number 2>/dev/null",
             pcap, keylog, (unsigned)tls.port, (unsigned)tls.port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int n = 0;
    while (fgets(line, sizeof(line), p))
        n++;
    if (pclose(p) != 0)
        fail_msg("tshark failed on %s: is tshark installed?", pcap);
    return n;
}

static void test_no_keylog_without_path(void **state)
{
    (void)state;
    char keylog[256];
    assert_int_equal(capture_keylog_path(run_dir, "dut", keylog, sizeof(keylog)), 0);
    env.keylog_path = NULL;
    probe();
    assert_int_equal(access(keylog, F_OK), -1);
}

static void test_keylog_decrypts_capture(void **state)
{
    (void)state;
    char keylog[256], pcap[256];
    struct capture *cap = NULL;
    struct assay_error err = {0};
    assert_int_equal(capture_keylog_path(run_dir, "dut", keylog, sizeof(keylog)), 0);
    snprintf(pcap, sizeof(pcap), "%s/devices/dut/capture.pcap", run_dir);
    bool capturing = geteuid() == 0;
    if (!capturing)
        print_message("[  SKIP    ] capture part: needs root or CAP_NET_RAW\n");
    else if (capture_open(NULL, "127.0.0.1", pcap, &cap, &err) != 0)
        fail_msg("capture_open: %s", err.msg);
    env.keylog_path = keylog;
    probe();
    env.keylog_path = NULL;
    if (capturing)
        assert_int_equal(capture_close(cap, &err), 0);

    /* TLS 1.3 secrets and the TLS 1.2 master secret, in NSS key log format. */
    assert_true(count_lines_starting(keylog, "CLIENT_HANDSHAKE_TRAFFIC_SECRET ") >= 1);
    assert_true(count_lines_starting(keylog, "SERVER_HANDSHAKE_TRAFFIC_SECRET ") >= 1);
    assert_true(count_lines_starting(keylog, "CLIENT_RANDOM ") >= 1);
    if (!capturing)
        skip();
    int with = decrypted_frames(pcap, keylog);
    int without = decrypted_frames(pcap, "/dev/null");
    print_message("EncryptedExtensions frames: %d with the key log, %d without\n", with, without);
    assert_true(with >= 1);
    assert_int_equal(without, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_keylog_without_path),
        cmocka_unit_test(test_keylog_decrypts_capture),
    };
    return cmocka_run_group_tests_name("capture_keylog", tests, setup, teardown);
}

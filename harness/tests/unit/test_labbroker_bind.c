/*
 * test_labbroker_bind.c: the t.labbroker binding from a bare Lua state, with
 * paho clients (drivers/mqtt.h) standing in for a device: a recorded CONNECT,
 * stop and __close, misuse raising, scope, and the refuser counting refused
 * attempts of a client process that retries on a fixed schedule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/clock.h"
#include "drivers/mqtt.h"
#include "lua/bind_labbroker.h"
#include "test_mqtt_broker.h"

static struct scope scope;
static struct binding_env env;
static lua_State *L;

static int setup(void **state)
{
    (void)state;
    scope_init(&scope);
    scope_add(&scope, "127.0.0.1", NULL);
    env = (struct binding_env){.scope = &scope, .timeout_ms = 3000};
    L = luaL_newstate();
    luaL_openlibs(L);
    bind_labbroker_push(L, &env);
    lua_setglobal(L, "lb");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lua_close(L);
    scope_release(&scope);
    return 0;
}

/* Runs a chunk; returns 0 when it ran without error (the message is printed otherwise). */
static int run(const char *fmt, ...)
{
    char code[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(code, sizeof(code), fmt, ap);
    va_end(ap);
    if (luaL_dostring(L, code) != LUA_OK) {
        fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

static enum mqttdrv_outcome connect_once(uint16_t port, const char *id, const char *user,
                                         const char *pass, int *code)
{
    struct mqttdrv_target t = {
        .host = "127.0.0.1", .port = port, .scope = &scope, .timeout_ms = 2000};
    struct mqttdrv_connect_opts o = {.client_id = id,
                                     .username = user,
                                     .password = pass,
                                     .password_len = pass ? strlen(pass) : 0};
    struct mqttdrv_connack ack = {0};
    struct assay_error err = {0};
    assert_int_equal(mqttdrv_connect(&t, &o, &ack, &err), 0);
    if (code)
        *code = ack.code;
    return ack.outcome;
}

static void test_start_collect_stop(void **state)
{
    (void)state;
    uint16_t port = test_mqtt_closed_port();
    assert_int_equal(
        run("b = assert(lb.start({ port = %u, broker_address = '127.0.0.1' }))", (unsigned)port),
        0);
    assert_int_equal(connect_once(port, "dev-7", "u7", "p\x01w", NULL), MQTTDRV_ACCEPTED);
    assert_int_equal(run("local r = b:collect({ ms = 3000, connects = 1 })\n"
                         "assert(r.tls == 'plain' and r.port == %u and #r.connects == 1)\n"
                         "local c = r.connects[1]\n"
                         "assert(c.client_id == 'dev-7' and c.username == 'u7')\n"
                         "assert(c.password_present and c.password == 'p\\1w' and not c.tls)\n"
                         "assert(r.tcp_connections == 1 and r.connects_seen == 1)\n"
                         "local s = b:stop(); assert(s.killed == false and s.stop_ms >= 0)\n"
                         "assert(b:stop().already)\n"
                         "assert(not pcall(b.collect, b, 10))",
                         (unsigned)port),
                     0);
    assert_int_equal(connect_once(port, "late", NULL, NULL, NULL), MQTTDRV_TRANSPORT);
}

static void test_close_and_gc_stop_it(void **state)
{
    (void)state;
    uint16_t port = test_mqtt_closed_port();
    assert_int_equal(run("do local b <close> = assert(lb.start({ port = %u }))\n"
                         "  assert(#b:collect(0).connects == 0) end",
                         (unsigned)port),
                     0);
    assert_int_equal(connect_once(port, "x", NULL, NULL, NULL), MQTTDRV_TRANSPORT);
    assert_int_equal(
        run("g = assert(lb.start({ port = %u })); g = nil; collectgarbage()", (unsigned)port), 0);
    assert_int_equal(connect_once(port, "y", NULL, NULL, NULL), MQTTDRV_TRANSPORT);
}

static void test_misuse_and_scope(void **state)
{
    (void)state;
    assert_int_equal(
        run("assert(not pcall(lb.start, {}))\n"
            "assert(not pcall(lb.start, { port = 1883, tls = true }))\n"
            "assert(not pcall(lb.start, { port = 1883 }, { tls = 'maybe' }))\n"
            "assert(not pcall(lb.refuser, { port = 1883 }, { ms = 0 }))\n"
            "local b, why = lb.start({ port = 1883, broker_address = '127.0.0.9' })\n"
            "assert(b == nil and why:find('^out of scope'))\n"
            "local r, rwhy = lb.refuser({ port = 1883, broker_address = '10.1.1.1' })\n"
            "assert(r == nil and rwhy:find('^out of scope'))"),
        0);
}

/* A client process that tries every 100 ms for 1 s; exits with the number of CONNACK 3. */
static void retrying_client(uint16_t port)
{
    int refused3 = 0;
    assay_ms end = clock_deadline(1000);
    while (clock_remaining_ms(end) > 0) {
        int code = -1;
        if (connect_once(port, "stormy-1", NULL, NULL, &code) == MQTTDRV_REFUSED && code == 3)
            refused3++;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    _exit(refused3 > 100 ? 100 : refused3);
}

static void test_refuser_counts_attempts(void **state)
{
    (void)state;
    uint16_t port = test_mqtt_closed_port();
    pid_t child = fork();
    if (child == 0)
        retrying_client(port);
    assert_int_equal(run("r = assert(lb.refuser({ port = %u }, { ms = 1600 }))", (unsigned)port),
                     0);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    int refused = WEXITSTATUS(status);
    assert_true(refused >= 4); /* the first attempts may come before the refuser listens */
    lua_getglobal(L, "r");
    assert_int_equal(run("assert(r.window_ms == 1600 and r.elapsed_ms >= 1600)\n"
                         "assert(r.connects == r.attempts and #r.times_ms == r.attempts)\n"
                         "assert(r.client_ids[1] == 'stormy-1')\n"
                         "for i = 2, #r.times_ms do assert(r.times_ms[i] >= r.times_ms[i-1]) end"),
                     0);
    lua_getfield(L, -1, "connects");
    assert_int_equal(lua_tointeger(L, -1), refused);
    lua_pop(L, 2);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_collect_stop),
        cmocka_unit_test(test_close_and_gc_stop_it),
        cmocka_unit_test(test_misuse_and_scope),
        cmocka_unit_test(test_refuser_counts_attempts),
    };
    return cmocka_run_group_tests_name("labbroker_bind", tests, setup, teardown);
}

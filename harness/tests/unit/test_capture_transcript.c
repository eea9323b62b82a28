/*
 * test_capture_transcript.c: the capture and the transcript agree on the raw
 * path. MQTT raw frames (t.mqtt.raw, t.mqtt.alive) go to a real mosquitto on
 * 127.0.0.1 while the device's traffic is captured; every byte the
 * transcript says was sent is, in order, what tshark finds in the captured
 * TCP payloads towards the broker, and every reply the transcript recorded
 * is in the captured payloads from it. Needs root or CAP_NET_RAW (skipped,
 * saying so, without) and tshark.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence/capture.h"
#include "lua/bind_mqtt.h"
#include "test_mqtt_broker.h"

#define STREAM_MAX 65536

struct stream {
    char hex[2 * STREAM_MAX + 1]; /* the bytes as lowercase hex, concatenated */
    size_t len;
    size_t entries;
};

static struct stream sent;
static char replies[16][512]; /* each RECV entry's bytes, hex */
static size_t nreplies;

static void append_hex(struct stream *s, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n && s->len + 2 < sizeof(s->hex); i++, s->len += 2)
        snprintf(s->hex + s->len, 3, "%02x", b[i]);
    s->entries++;
}

static void record(void *ctx, const struct transcript_entry *e)
{
    (void)ctx;
    if (!e->bytes || !e->nbytes || strcmp(e->protocol, "mqtt") != 0)
        return;
    if (e->dir == TRANSCRIPT_SEND)
        append_hex(&sent, e->bytes, e->nbytes);
    if (e->dir == TRANSCRIPT_RECV && nreplies < 16 && e->nbytes < 255) {
        char *r = replies[nreplies++];
        for (size_t i = 0; i < e->nbytes; i++)
            snprintf(r + 2 * i, 3, "%02x", e->bytes[i]);
    }
}

static const struct transcript_sink sink = {record, NULL};

/* The TCP payloads towards (`to_port`) or from the broker, in frame order, as one hex string. */
static void captured(const char *pcap, unsigned port, int to_port, struct stream *out)
{
    char cmd[512], line[2 * STREAM_MAX + 2];
    snprintf(cmd, sizeof(cmd),
             "tshark -n -r '%s' -Y 'tcp.%s==%u && tcp.len>0' -T fields -e tcp.payload "
             "2>/dev/null",
             pcap, to_port ? "dstport" : "srcport", port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    out->len = 0;
    out->hex[0] = 0;
    while (fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\n")] = 0;
        size_t n = strlen(line);
        assert_true(out->len + n < sizeof(out->hex));
        memcpy(out->hex + out->len, line, n + 1);
        out->len += n;
        out->entries++;
    }
    if (pclose(p) != 0)
        fail_msg("tshark failed on %s: is tshark installed?", pcap);
}

static void test_raw_bytes_agree(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("[  SKIP    ] capture needs root or CAP_NET_RAW; not root here\n");
        skip();
    }
    struct test_mqtt_broker anon;
    struct scope scope;
    struct capture *cap = NULL;
    struct assay_error err = {0};
    char dir[64], pcap[128], code[768];
    static struct stream wire_out, wire_in;
    snprintf(dir, sizeof(dir), "/tmp/assay-captx-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(pcap, sizeof(pcap), "%s/capture.pcap", dir);
    scope_init(&scope);
    assert_int_equal(scope_add(&scope, "127.0.0.1", NULL), 0);
    assert_int_equal(test_mqtt_broker_start(&anon, TEST_MQTT_ANON), 0);
    struct binding_env env = {
        .sink = &sink, .scope = &scope, .timeout_ms = 3000, .max_connections = 1};
    if (capture_open(NULL, "127.0.0.1", pcap, &cap, &err) != 0)
        fail_msg("capture_open: %s", err.msg);

    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    bind_mqtt_push(L, &env);
    lua_setglobal(L, "mqtt");
    snprintf(code, sizeof(code),
             "local ep = {address='127.0.0.1', port=%u}\n"
             "local r = assert(mqtt.raw(ep, 'ping'))\n"
             "assert(r.outcome == 'reply' and r.reply.type == 'PINGRESP')\n"
             "r = assert(mqtt.raw(ep, '\\x10\\x0d\\0\\4MQTT\\4\\2\\0\\10\\0\\1x'))\n"
             "assert(r.reply.type == 'CONNACK')\n"
             "r = assert(mqtt.raw(ep, 'bad-length'))\n"
             "assert(r.closed and r.sent)\n"
             "assert(assert(mqtt.alive(ep)).pingresp)\n",
             (unsigned)anon.port);
    int lrc = luaL_loadstring(L, code) == LUA_OK ? lua_pcall(L, 0, 0, 0) : -1;
    if (lrc != LUA_OK)
        fail_msg("lua: %s", lua_tostring(L, -1));
    lua_close(L);
    assert_int_equal(capture_close(cap, &err), 0);
    char marks[160];
    json_error_t je;
    assert_int_equal(capture_marks_path(pcap, marks, sizeof(marks)), 0);
    json_t *md = json_load_file(marks, 0, &je);
    assert_non_null(md);
    json_int_t dropped = json_integer_value(json_object_get(md, "dropped"));
    if (dropped != 0)
        fail_msg("the kernel dropped %lld packets of this capture", (long long)dropped);
    json_decref(md);

    captured(pcap, anon.port, 1, &wire_out);
    captured(pcap, anon.port, 0, &wire_in);
    print_message("transcript: %zu sends (%zu bytes), %zu replies; capture: %zu segments out\n",
                  sent.entries, sent.len / 2, nreplies, wire_out.entries);
    assert_true(sent.entries >= 4 && nreplies >= 3);
    assert_string_equal(sent.hex, wire_out.hex); /* every byte sent, nothing else, in order */
    const char *at = wire_in.hex;
    for (size_t i = 0; i < nreplies; i++) { /* each reply, in order, in the captured stream */
        const char *hit = strstr(at, replies[i]);
        if (!hit)
            fail_msg("reply %zu (%s) is not in the capture", i, replies[i]);
        at = hit + strlen(replies[i]);
    }
    test_mqtt_broker_stop(&anon);
    scope_release(&scope);
    snprintf(code, sizeof(code), "rm -rf '%s'", dir);
    assert_int_equal(system(code), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_raw_bytes_agree)};
    return cmocka_run_group_tests_name("capture_transcript", tests, NULL, NULL);
}

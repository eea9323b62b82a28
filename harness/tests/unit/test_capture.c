/*
 * test_capture.c: the packet capture, on this machine's loopback. Each test
 * makes its own TCP and UDP exchange with a private 127.0.0.x address,
 * captures it, and reads the pcap back with tshark. Capturing needs root or
 * CAP_NET_RAW: without it those tests are skipped (and say so); the refusal
 * path is tested by dropping privileges in a child.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "evidence/capture.h"

static char dir[64];

static const char TCP_REQ[] = "hello-capture-tcp \x01\x02\xff";
static const char TCP_REP[] = "reply-from-device";
static const char UDP_MSG[] = "udp-datagram-payload";

static bool can_capture(void)
{
    if (geteuid() == 0)
        return true;
    print_message("[  SKIP    ] capture needs root or CAP_NET_RAW; not root here\n");
    return false;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/assay-capture-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void path_in(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static struct sockaddr_in sin_of(const char *ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

/* A socket bound to ip:0 with 2 s receive/send timeouts (no wait is unbounded). */
static int bound(int type, const char *ip, uint16_t *port)
{
    int fd = socket(AF_INET, type, 0);
    assert_true(fd >= 0);
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = sin_of(ip, 0);
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Client 127.0.0.1 -> ip: sends TCP_REQ, the server answers TCP_REP, both close. */
static void tcp_exchange(const char *ip)
{
    uint16_t port, cport;
    char buf[64];
    int srv = bound(SOCK_STREAM, ip, &port);
    assert_int_equal(listen(srv, 1), 0);
    int cli = bound(SOCK_STREAM, "127.0.0.1", &cport);
    struct sockaddr_in a = sin_of(ip, port);
    assert_int_equal(connect(cli, (struct sockaddr *)&a, sizeof(a)), 0);
    int acc = accept(srv, NULL, NULL);
    assert_true(acc >= 0);
    assert_int_equal(send(cli, TCP_REQ, sizeof(TCP_REQ) - 1, 0), (ssize_t)sizeof(TCP_REQ) - 1);
    assert_int_equal(recv(acc, buf, sizeof(buf), MSG_WAITALL), (ssize_t)sizeof(TCP_REQ) - 1);
    assert_int_equal(send(acc, TCP_REP, sizeof(TCP_REP) - 1, 0), (ssize_t)sizeof(TCP_REP) - 1);
    assert_int_equal(recv(cli, buf, sizeof(TCP_REP) - 1, MSG_WAITALL),
                     (ssize_t)sizeof(TCP_REP) - 1);
    close(cli);
    assert_int_equal(recv(acc, buf, sizeof(buf), 0), 0); /* the client's FIN arrived */
    close(acc);
    close(srv);
}

/* 127.0.0.1 -> ip: one UDP datagram, received. */
static void udp_exchange(const char *ip, const char *msg)
{
    uint16_t port, cport;
    char buf[64];
    int srv = bound(SOCK_DGRAM, ip, &port);
    int cli = bound(SOCK_DGRAM, "127.0.0.1", &cport);
    struct sockaddr_in a = sin_of(ip, port);
    size_t n = strlen(msg);
    assert_int_equal(sendto(cli, msg, n, 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)n);
    assert_int_equal(recv(srv, buf, sizeof(buf), 0), (ssize_t)n);
    close(cli);
    close(srv);
}

static void hex_of(const char *s, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", (unsigned char)s[i]);
}

struct frame {
    long number;
    char src[48], dst[48];
    char tcp[256], udp[256];
};

/* Reads the capture with tshark: one struct frame per packet. Returns the count. */
static size_t tshark_frames(const char *pcap, struct frame *fr, size_t max)
{
    char cmd[512], line[1024];
    snprintf(cmd, sizeof(cmd),
             "tshark -n -r '%s' -T fields -E separator=/t -e frame.number -e ip.src -e ip.dst "
             "-e tcp.payload -e udp.payload 2>/dev/null",
             pcap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = 0;
    while (fgets(line, sizeof(line), p)) {
        if (n == max)
            fail_msg("more than %zu frames in %s", max, pcap);
        struct frame *f = &fr[n++];
        memset(f, 0, sizeof(*f));
        char *fields[5] = {0}, *s = line;
        for (int i = 0; i < 5; i++) {
            fields[i] = s;
            s = s ? strpbrk(s, "\t\n") : NULL;
            if (s)
                *s++ = 0;
        }
        f->number = strtol(fields[0], NULL, 10);
        snprintf(f->src, sizeof(f->src), "%s", fields[1] ? fields[1] : "");
        snprintf(f->dst, sizeof(f->dst), "%s", fields[2] ? fields[2] : "");
        snprintf(f->tcp, sizeof(f->tcp), "%s", fields[3] ? fields[3] : "");
        snprintf(f->udp, sizeof(f->udp), "%s", fields[4] ? fields[4] : "");
    }
    int st = pclose(p);
    if (st != 0)
        fail_msg("tshark failed on %s (status %d): is tshark installed?", pcap, st);
    return n;
}

/* The frame number whose tcp or udp payload is `bytes`, or 0. */
static long find_payload(const struct frame *fr, size_t n, const char *bytes, size_t len, bool tcp)
{
    char hex[256];
    hex_of(bytes, len, hex);
    for (size_t i = 0; i < n; i++)
        if (strcmp(tcp ? fr[i].tcp : fr[i].udp, hex) == 0)
            return fr[i].number;
    return 0;
}

static json_t *marks_of(const char *pcap)
{
    char mp[256];
    json_error_t je;
    assert_int_equal(capture_marks_path(pcap, mp, sizeof(mp)), 0);
    json_t *m = json_load_file(mp, 0, &je);
    if (!m)
        fail_msg("%s: %s", mp, je.text);
    return m;
}

static long mark_packets(json_t *doc, size_t i)
{
    json_t *m = json_array_get(json_object_get(doc, "marks"), i);
    assert_non_null(m);
    return (long)json_integer_value(json_object_get(m, "packets"));
}

static void test_paths_and_route(void **state)
{
    (void)state;
    char buf[256], ifn[CAPTURE_IFNAME_MAX];
    struct assay_error err = {0};
    assert_int_equal(capture_marks_path("run/devices/a/capture.pcap", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "run/devices/a/capture.marks.json");
    assert_int_equal(capture_keylog_path("run", "a", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "run/devices/a/tls-keys.log");
    assert_int_equal(capture_keylog_path("run", "a", buf, 10), ASSAY_EINVAL);

    assert_int_equal(capture_route_ifname("127.0.0.77", ifn, &err), 0);
    assert_string_equal(ifn, "lo");
    assert_int_equal(capture_route_ifname("::1", ifn, &err), 0);
    assert_string_equal(ifn, "lo");
    assert_int_equal(capture_route_ifname("host 1.2.3.4 or", ifn, &err), ASSAY_EINVAL);
    assert_non_null(strstr(err.msg, "not a numeric IP address"));
    assert_int_equal(capture_route_ifname("device.example", ifn, &err), ASSAY_EINVAL);

    /* A non-loopback address of this host routes through the interface holding it. */
    struct ifaddrs *ifs, *i;
    assert_int_equal(getifaddrs(&ifs), 0);
    for (i = ifs; i; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !(i->ifa_flags & IFF_LOOPBACK))
            break;
    if (i) {
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip, sizeof(ip));
        assert_int_equal(capture_route_ifname(ip, ifn, &err), 0);
        assert_string_equal(ifn, i->ifa_name);
    }
    freeifaddrs(ifs);
}

static void test_refused_arguments(void **state)
{
    (void)state;
    struct capture *c = (struct capture *)&c;
    struct assay_error err = {0};
    char pcap[128];
    path_in(pcap, sizeof(pcap), "bad.pcap");
    assert_int_equal(capture_open(NULL, "127.0.0.1 or tcp", pcap, &c, &err), ASSAY_EINVAL);
    assert_null(c);
    assert_int_equal(capture_close(NULL, &err), 0);
    if (!can_capture())
        skip();
    assert_int_equal(capture_open("nosuchif0", "127.0.0.30", pcap, &c, &err), ASSAY_ENET);
    assert_null(c);
    assert_non_null(strstr(err.msg, "nosuchif0"));
}

/* A capture of address into <tmp>/<name> (its path in pcap); fails the test if it cannot open. */
static struct capture *open_on(const char *address, const char *name, char *pcap, size_t size)
{
    struct capture *c = NULL;
    struct assay_error err = {0};
    path_in(pcap, size, name);
    if (capture_open(NULL, address, pcap, &c, &err) != 0)
        fail_msg("capture_open: %s", err.msg);
    return c;
}

/* The exchange with 127.0.0.23 is captured with its exact bytes, traffic with
 * 127.0.0.24 is not, and the marks slice out each exchange. */
static void test_capture_roundtrip(void **state)
{
    (void)state;
    if (!can_capture())
        skip();
    struct capture *c = NULL;
    struct assay_error err = {0};
    struct frame fr[64];
    char pcap[128];
    c = open_on("127.0.0.23", "capture.pcap", pcap, sizeof(pcap));
    assert_string_equal(capture_ifname(c), "lo");
    assert_int_equal(capture_mark(c, "start tcp", &err), 0);
    tcp_exchange("127.0.0.23");
    udp_exchange("127.0.0.24", "not-for-this-device");
    assert_int_equal(capture_mark(c, "end tcp", &err), 0);
    assert_int_equal(capture_mark(c, "start udp", &err), 0);
    udp_exchange("127.0.0.23", UDP_MSG);
    assert_int_equal(capture_mark(c, "end udp", &err), 0);
    uint64_t written = capture_packets(c);
    if (capture_close(c, &err) != 0)
        fail_msg("capture_close: %s", err.msg);

    size_t n = tshark_frames(pcap, fr, 64);
    assert_int_equal(n, written);
    assert_true(n >= 8); /* handshake, data, replies, FINs, the datagram */
    for (size_t i = 0; i < n; i++) {
        bool ours = !strcmp(fr[i].src, "127.0.0.23") || !strcmp(fr[i].dst, "127.0.0.23");
        if (!ours)
            fail_msg("frame %ld is %s -> %s", fr[i].number, fr[i].src, fr[i].dst);
    }
    long req = find_payload(fr, n, TCP_REQ, sizeof(TCP_REQ) - 1, true);
    long rep = find_payload(fr, n, TCP_REP, sizeof(TCP_REP) - 1, true);
    long dgram = find_payload(fr, n, UDP_MSG, sizeof(UDP_MSG) - 1, false);
    assert_true(req > 0 && rep > req && dgram > rep);
    assert_int_equal(find_payload(fr, n, "not-for-this-device", 19, false), 0);

    json_t *m = marks_of(pcap);
    assert_string_equal(json_string_value(json_object_get(m, "capture")), "capture.pcap");
    assert_string_equal(json_string_value(json_object_get(m, "filter")), "host 127.0.0.23");
    assert_int_equal(json_array_size(json_object_get(m, "marks")), 4);
    json_t *m0 = json_array_get(json_object_get(m, "marks"), 0);
    assert_string_equal(json_string_value(json_object_get(m0, "label")), "start tcp");
    assert_true(json_integer_value(json_object_get(m0, "time_sec")) > 1700000000);
    long s_tcp = mark_packets(m, 0), e_tcp = mark_packets(m, 1);
    long s_udp = mark_packets(m, 2), e_udp = mark_packets(m, 3);
    assert_int_equal(s_tcp, 0);
    assert_true(req > s_tcp && rep <= e_tcp);
    assert_true(dgram > s_udp && dgram <= e_udp);
    assert_int_equal(e_udp, (long)n);
    assert_int_equal(json_integer_value(json_object_get(m, "packets")), (json_int_t)n);
    assert_true(json_is_integer(json_object_get(m, "dropped")));
    assert_int_equal(json_integer_value(json_object_get(m, "dropped")), 0);
    json_decref(m);
}

/* Packets are on disk while the capture still runs (a killed worker loses nothing read). */
static void test_flushed_as_it_goes(void **state)
{
    (void)state;
    if (!can_capture())
        skip();
    struct capture *c = NULL;
    struct assay_error err = {0};
    struct frame fr[16];
    char pcap[128];
    c = open_on("127.0.0.26", "flush.pcap", pcap, sizeof(pcap));
    struct stat st;
    assert_int_equal(stat(pcap, &st), 0);
    assert_int_equal(st.st_size, 24); /* the file header is written at once */
    udp_exchange("127.0.0.26", UDP_MSG);
    assert_int_equal(capture_mark(c, "after", &err), 0);
    size_t n = tshark_frames(pcap, fr, 16); /* read while the capture is open */
    assert_int_equal(n, 1);
    assert_int_equal(find_payload(fr, n, UDP_MSG, sizeof(UDP_MSG) - 1, false), 1);
    assert_int_equal(capture_close(c, &err), 0);
}

/* A capture file stops growing at its limit: later packets are counted as not
 * written, and the status says so; what was written stays a valid capture. */
static void test_file_limit(void **state)
{
    (void)state;
    if (!can_capture())
        skip();
    struct capture *c = NULL;
    struct assay_error err = {0};
    struct frame fr[64];
    char pcap[128];
    c = open_on("127.0.0.29", "limit.pcap", pcap, sizeof(pcap));
    const uint64_t limit = 24 + 3 * (16 + 60); /* the header and a few small frames */
    capture_set_file_limit(c, limit);
    for (int i = 0; i < 10; i++)
        udp_exchange("127.0.0.29", UDP_MSG);
    assert_int_equal(capture_mark(c, "after", &err), 0);
    uint64_t written = capture_packets(c), left_out = capture_not_written(c);
    print_message("limit %llu bytes: %llu frames written, %llu left out\n",
                  (unsigned long long)limit, (unsigned long long)written,
                  (unsigned long long)left_out);
    assert_true(written >= 1 && written < 10);
    assert_int_equal(written + left_out, 10);
    json_t *st = capture_status_json(c, "dev-limit", NULL);
    assert_int_equal(json_integer_value(json_object_get(st, "not_written")), (json_int_t)left_out);
    assert_int_equal(json_integer_value(json_object_get(st, "file_limit_bytes")),
                     (json_int_t)limit);
    json_decref(st);
    assert_int_equal(capture_close(c, &err), 0);
    struct stat sb;
    assert_int_equal(stat(pcap, &sb), 0);
    assert_true((uint64_t)sb.st_size <= limit);
    assert_int_equal(tshark_frames(pcap, fr, 64), written);
}

/* With nothing to capture, close returns within 200 ms and leaves an empty, valid capture. */
static void test_idle_close_is_prompt(void **state)
{
    (void)state;
    if (!can_capture())
        skip();
    struct capture *c = NULL;
    struct assay_error err = {0};
    struct frame fr[4];
    char pcap[128];
    c = open_on("127.0.0.25", "idle.pcap", pcap, sizeof(pcap));
    udp_exchange("127.0.0.27", "elsewhere"); /* traffic the filter drops */
    int64_t t0 = now_ms();
    assert_int_equal(capture_close(c, &err), 0);
    int64_t took = now_ms() - t0;
    print_message("capture_close on an idle capture took %lld ms\n", (long long)took);
    assert_true(took < CAPTURE_STOP_TIMEOUT_MS);
    assert_int_equal(tshark_frames(pcap, fr, 4), 0);
}

/* A resumed worker appends: earlier frames and marks stay, a torn last record is cut off,
 * and the new marks count frames from the start of the file. */
static void test_resume_appends(void **state)
{
    (void)state;
    if (!can_capture())
        skip();
    struct capture *c = NULL;
    struct assay_error err = {0};
    struct frame fr[32];
    char pcap[128];
    c = open_on("127.0.0.28", "resume.pcap", pcap, sizeof(pcap));
    udp_exchange("127.0.0.28", "first-run");
    assert_int_equal(capture_mark(c, "end first", &err), 0);
    assert_int_equal(capture_close(c, &err), 0);
    FILE *f = fopen(pcap, "ab"); /* half a record header: a worker killed mid-write */
    assert_non_null(f);
    fwrite("\x01\x02\x03\x04\x05\x06\x07", 1, 7, f);
    fclose(f);

    if (capture_open(NULL, "127.0.0.28", pcap, &c, &err) != 0)
        fail_msg("capture_open (resume): %s", err.msg);
    assert_int_equal(capture_packets(c), 1);
    udp_exchange("127.0.0.28", "second-run");
    assert_int_equal(capture_mark(c, "end second", &err), 0);
    assert_int_equal(capture_close(c, &err), 0);

    size_t n = tshark_frames(pcap, fr, 32);
    assert_int_equal(n, 2);
    assert_int_equal(find_payload(fr, n, "first-run", 9, false), 1);
    assert_int_equal(find_payload(fr, n, "second-run", 10, false), 2);
    json_t *m = marks_of(pcap);
    assert_int_equal(json_array_size(json_object_get(m, "marks")), 2);
    assert_int_equal(mark_packets(m, 0), 1);
    assert_int_equal(mark_packets(m, 1), 2);
    json_decref(m);

    /* A file that is not a capture is never appended to. */
    char other[128];
    path_in(other, sizeof(other), "not-a.pcap");
    f = fopen(other, "wb");
    assert_non_null(f);
    fputs("this is not a pcap file at all", f);
    fclose(f);
    assert_int_equal(capture_open(NULL, "127.0.0.28", other, &c, &err), ASSAY_EIO);
    assert_non_null(strstr(err.msg, "not a pcap file"));
}

/* Without privileges capture_open says "capture not permitted" and nothing is left running. */
static void test_not_permitted(void **state)
{
    (void)state;
    if (geteuid() != 0) { /* not root here: the refusal itself is what is tested */
        struct capture *c = NULL;
        struct assay_error err = {0};
        char pcap[128];
        path_in(pcap, sizeof(pcap), "denied.pcap");
        assert_int_equal(capture_open(NULL, "127.0.0.29", pcap, &c, &err), ASSAY_EIO);
        assert_null(c);
        assert_non_null(strstr(err.msg, "capture not permitted on lo"));
        return;
    }
    char pcap[128];
    path_in(pcap, sizeof(pcap), "denied.pcap");
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct capture *c = NULL;
        struct assay_error err = {0};
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        int rc = capture_open(NULL, "127.0.0.29", pcap, &c, &err);
        if (rc != ASSAY_EIO || c || !strstr(err.msg, "capture not permitted on lo")) {
            fprintf(stderr, "rc %d: %s\n", rc, err.msg);
            _exit(1);
        }
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* The worker's entry points: the device's capture file, and run.json's capture object. */
static void test_device_and_status(void **state)
{
    (void)state;
    struct assay_error err = {0};
    json_t *off = capture_status_json(NULL, "dut", "capture not permitted on lo");
    assert_true(json_is_false(json_object_get(off, "enabled")));
    assert_string_equal(json_string_value(json_object_get(off, "reason")),
                        "capture not permitted on lo");
    json_decref(off);
    if (!can_capture())
        skip();
    char run[128], path[192];
    struct capture *c = NULL;
    path_in(run, sizeof(run), "run");
    assert_int_equal(mkdir(run, 0755), 0);
    snprintf(path, sizeof(path), "%s/devices", run);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/devices/dut", run);
    assert_int_equal(mkdir(path, 0755), 0);
    if (capture_open_device(run, "dut", "127.0.0.31", &c, &err) != 0)
        fail_msg("capture_open_device: %s", err.msg);
    udp_exchange("127.0.0.31", UDP_MSG);
    assert_int_equal(capture_mark(c, "end", &err), 0);
    json_t *on = capture_status_json(c, "dut", NULL);
    assert_true(json_is_true(json_object_get(on, "enabled")));
    assert_string_equal(json_string_value(json_object_get(on, "file")), "devices/dut/capture.pcap");
    assert_string_equal(json_string_value(json_object_get(on, "marks")),
                        "devices/dut/capture.marks.json");
    assert_string_equal(json_string_value(json_object_get(on, "interface")), "lo");
    assert_string_equal(json_string_value(json_object_get(on, "filter")), "host 127.0.0.31");
    assert_int_equal(json_integer_value(json_object_get(on, "packets")), 1);
    json_decref(on);
    assert_int_equal(capture_close(c, &err), 0);
    snprintf(path, sizeof(path), "%s/devices/dut/capture.marks.json", run);
    assert_int_equal(access(path, R_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_and_route),      cmocka_unit_test(test_refused_arguments),
        cmocka_unit_test(test_capture_roundtrip),    cmocka_unit_test(test_flushed_as_it_goes),
        cmocka_unit_test(test_idle_close_is_prompt), cmocka_unit_test(test_resume_appends),
        cmocka_unit_test(test_file_limit),           cmocka_unit_test(test_not_permitted),
        cmocka_unit_test(test_device_and_status),
    };
    return cmocka_run_group_tests_name("capture", tests, setup, teardown);
}

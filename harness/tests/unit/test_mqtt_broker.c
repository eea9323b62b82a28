/* test_mqtt_broker.c: start and stop a real mosquitto for the MQTT tests (test_mqtt_broker.h). */
#include "test_mqtt_broker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

static int bound_socket(uint16_t *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

uint16_t test_mqtt_closed_port(void)
{
    uint16_t port = 0;
    int fd = bound_socket(&port);
    if (fd >= 0)
        close(fd);
    return port;
}

int test_mqtt_silent_listener(uint16_t *port)
{
    int fd = bound_socket(port);
    if (fd >= 0 && listen(fd, 4) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int test_mqtt_run(const char *const argv[])
{
    int status;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execvp(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char test_mqtt_log_text[65536];
int test_mqtt_log_entries;
static size_t log_len;

static void log_record(void *ctx, const struct transcript_entry *e)
{
    (void)ctx;
    test_mqtt_log_entries++;
    if (e->summary && log_len + strlen(e->summary) + 2 < sizeof test_mqtt_log_text)
        log_len +=
            (size_t)snprintf(test_mqtt_log_text + log_len, sizeof test_mqtt_log_text - log_len,
                             "%s: %s\n", e->event, e->summary);
}

const struct transcript_sink test_mqtt_log_sink = {log_record, NULL};

void test_mqtt_log_reset(void)
{
    log_len = 0;
    test_mqtt_log_text[0] = '\0';
    test_mqtt_log_entries = 0;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static int make_certs(struct test_mqtt_broker *b)
{
    char ext[192], key[192], csr[192], crt[192], cakey[192], okey[192];
    snprintf(ext, sizeof ext, "%s/ext.cnf", b->dir);
    snprintf(key, sizeof key, "%s/server.key", b->dir);
    snprintf(csr, sizeof csr, "%s/server.csr", b->dir);
    snprintf(crt, sizeof crt, "%s/server.crt", b->dir);
    snprintf(cakey, sizeof cakey, "%s/ca.key", b->dir);
    snprintf(okey, sizeof okey, "%s/other.key", b->dir);
    if (write_file(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n"))
        return -1;
    const char *ca[] = {"openssl",
                        "req",
                        "-x509",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:prime256v1",
                        "-nodes",
                        "-subj",
                        "/CN=assay-test-ca",
                        "-days",
                        "2",
                        "-keyout",
                        cakey,
                        "-out",
                        b->ca,
                        NULL};
    const char *other[] = {"openssl",
                           "req",
                           "-x509",
                           "-newkey",
                           "ec",
                           "-pkeyopt",
                           "ec_paramgen_curve:prime256v1",
                           "-nodes",
                           "-subj",
                           "/CN=assay-other-ca",
                           "-days",
                           "2",
                           "-keyout",
                           okey,
                           "-out",
                           b->other_ca,
                           NULL};
    const char *req[] = {"openssl", "req",      "-newkey",
                         "ec",      "-pkeyopt", "ec_paramgen_curve:prime256v1",
                         "-nodes",  "-subj",    "/CN=assay-test-broker",
                         "-keyout", key,        "-out",
                         csr,       NULL};
    const char *sign[] = {
        "openssl",         "x509",  "-req", "-in",      csr, "-CA",  b->ca, "-CAkey", cakey,
        "-CAcreateserial", "-days", "2",    "-extfile", ext, "-out", crt,   NULL};
    if (test_mqtt_run(ca) || test_mqtt_run(other) || test_mqtt_run(req) || test_mqtt_run(sign)) {
        fprintf(stderr, "test broker: openssl failed making certificates in %s\n", b->dir);
        return -1;
    }
    return 0;
}

static int write_conf(struct test_mqtt_broker *b, enum test_mqtt_kind kind, const char *conf)
{
    char text[1024], pw[192];
    int n = snprintf(text, sizeof text,
                     "listener %u 127.0.0.1\npersistence false\nlog_dest stderr\n"
                     "log_type all\nuser root\n",
                     b->port);
    if (kind == TEST_MQTT_AUTH || kind == TEST_MQTT_ACL) {
        snprintf(pw, sizeof pw, "%s/pwfile", b->dir);
        n += snprintf(text + n, sizeof text - (size_t)n,
                      "allow_anonymous false\npassword_file %s\n", pw);
        if (kind == TEST_MQTT_ACL)
            n += snprintf(text + n, sizeof text - (size_t)n, "acl_file %s/aclfile\n", b->dir);
    } else {
        n += snprintf(text + n, sizeof text - (size_t)n, "allow_anonymous true\n");
    }
    if (kind == TEST_MQTT_TLS)
        snprintf(text + n, sizeof text - (size_t)n,
                 "cafile %s\ncertfile %s/server.crt\nkeyfile %s/server.key\n", b->ca, b->dir,
                 b->dir);
    return write_file(conf, text);
}

static bool port_open(uint16_t port)
{
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static bool log_says(const char *path, const char *needle)
{
    char buf[8192];
    FILE *f = fopen(path, "r");
    size_t n;
    if (!f)
        return false;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* Starts mosquitto on b->port; 0 ready, 1 port taken (retry), -1 failed. */
static int launch(struct test_mqtt_broker *b, const char *conf)
{
    const char *exe =
        access("/usr/sbin/mosquitto", X_OK) == 0 ? "/usr/sbin/mosquitto" : "mosquitto";
    assay_ms deadline = clock_deadline(15000);
    int status;
    b->pid = fork();
    if (b->pid < 0)
        return -1;
    if (b->pid == 0) {
        /* A test process that dies (a failed assertion, a ctest timeout) takes its broker along. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(b->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
        }
        execlp(exe, exe, "-c", conf, (char *)NULL);
        _exit(127);
    }
    while (clock_remaining_ms(deadline) > 0) {
        if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
            b->pid = 0;
            if (log_says(b->log, "Address already in use"))
                return 1;
            fprintf(stderr, "test broker: mosquitto exited; see %s\n", b->log);
            return -1;
        }
        if (port_open(b->port))
            return 0;
        poll(NULL, 0, 10); /* readiness poll interval */
    }
    fprintf(stderr, "test broker: mosquitto not ready on port %u\n", b->port);
    return -1;
}

int test_mqtt_broker_start(struct test_mqtt_broker *b, enum test_mqtt_kind kind)
{
    char conf[192], pw[192];
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "/tmp/assay-mqtt-XXXXXX");
    if (!mkdtemp(b->dir))
        return -1;
    snprintf(conf, sizeof conf, "%s/mosquitto.conf", b->dir);
    snprintf(b->log, sizeof b->log, "%s/mosquitto.log", b->dir);
    snprintf(b->ca, sizeof b->ca, "%s/ca.crt", b->dir);
    snprintf(b->other_ca, sizeof b->other_ca, "%s/other.crt", b->dir);
    if (kind == TEST_MQTT_AUTH || kind == TEST_MQTT_ACL) {
        snprintf(pw, sizeof pw, "%s/pwfile", b->dir);
        const char *argv[] = {"mosquitto_passwd", "-c", "-b", pw, TEST_MQTT_USER,
                              TEST_MQTT_PASSWORD, NULL};
        if (test_mqtt_run(argv) != 0)
            return -1;
    }
    if (kind == TEST_MQTT_ACL) {
        snprintf(pw, sizeof pw, "%s/aclfile", b->dir);
        if (write_file(pw, "user " TEST_MQTT_USER "\ntopic readwrite " TEST_MQTT_ACL_TOPICS "\n"))
            return -1;
    }
    if (kind == TEST_MQTT_TLS && make_certs(b) != 0)
        return -1;
    for (int attempt = 0; attempt < 8; attempt++) {
        int rc;
        b->port = test_mqtt_closed_port();
        if (write_conf(b, kind, conf) != 0)
            return -1;
        rc = launch(b, conf);
        if (rc <= 0)
            return rc;
    }
    return -1;
}

void test_mqtt_broker_stop(struct test_mqtt_broker *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        waitpid(b->pid, NULL, 0);
        b->pid = 0;
    }
    if (b->dir[0] && strncmp(b->dir, "/tmp/assay-mqtt-", 16) == 0) {
        const char *argv[] = {"rm", "-rf", b->dir, NULL};
        test_mqtt_run(argv);
        b->dir[0] = '\0';
    }
}

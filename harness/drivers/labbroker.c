/*
 * labbroker.c: starting, watching and stopping the lab's own mosquitto for an
 * MQTT client device. See labbroker.h.
 */
#include "drivers/labbroker_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "drivers/mqtt.h"

#ifndef ASSAY_LABBROKER_PLUGIN
#define ASSAY_LABBROKER_PLUGIN "labbroker_plugin.so"
#endif
#define MOSQUITTO_DEFAULT "/usr/sbin/mosquitto"
#define POLL_MS 20
#define TERM_GRACE_MS 2000

const char *labbroker_tls_name(enum labbroker_tls t)
{
    switch (t) {
    case LABBROKER_PLAIN: return "plain";
    case LABBROKER_TRUSTED: return "trusted";
    case LABBROKER_UNTRUSTED: return "untrusted";
    }
    return "?";
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static const char *plugin_path(void)
{
    const char *p = getenv("ASSAY_LABBROKER_PLUGIN");
    return p && *p ? p : ASSAY_LABBROKER_PLUGIN;
}

static const char *mosquitto_path(void)
{
    const char *p = getenv("ASSAY_MOSQUITTO");
    return p && *p ? p : MOSQUITTO_DEFAULT;
}

static int make_dir(struct labbroker *b, const char *parent, struct assay_error *err)
{
    if (parent) {
        mkdir(parent, 0700); /* the device's evidence directory may not exist yet */
        snprintf(b->dir, sizeof(b->dir), "%s/broker-XXXXXX", parent);
    } else {
        snprintf(b->dir, sizeof(b->dir), "/tmp/assay-labbroker-XXXXXX");
        b->own_dir = true;
    }
    if (!mkdtemp(b->dir))
        return assay_fail(err, ASSAY_EIO, "lab broker: cannot create a directory under %s: %s",
                          parent ? parent : "/tmp", strerror(errno));
    snprintf(b->conf, sizeof(b->conf), "%s/mosquitto.conf", b->dir);
    snprintf(b->log, sizeof(b->log), "%s/mosquitto.log", b->dir);
    snprintf(b->record_path, sizeof(b->record_path), "%s/record.tsv", b->dir);
    return 0;
}

static int write_conf(struct labbroker *b, struct assay_error *err)
{
    FILE *f = fopen(b->conf, "w");
    if (!f)
        return assay_fail(err, ASSAY_EIO, "lab broker: cannot write %s", b->conf);
    fprintf(f,
            "# The lab's broker for an MQTT client device, written by assay (labbroker.c).\n"
            "per_listener_settings false\n"
            "listener %u %s\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            "connection_messages true\n"
            "plugin %s\n"
            "plugin_opt_record %s\n"
            "plugin_opt_payload_max %zu\n",
            (unsigned)b->o.port, b->address, plugin_path(), b->record_path,
            b->o.payload_max ? b->o.payload_max : 512);
    if (b->o.tls != LABBROKER_PLAIN)
        fprintf(f, "certfile %s\nkeyfile %s\nrequire_certificate false\n", b->pair.cert,
                b->pair.key);
    if (geteuid() == 0)
        fprintf(f, "user root\n"); /* keys are root's, 0600 (TOOLCHAIN.md 4c) */
    if (fclose(f) != 0)
        return assay_fail(err, ASSAY_EIO, "lab broker: cannot write %s", b->conf);
    return 0;
}

static int spawn(struct labbroker *b, struct assay_error *err)
{
    int logfd = open(b->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (logfd < 0)
        return assay_fail(err, ASSAY_EIO, "lab broker: cannot open %s", b->log);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* the worker died between fork and prctl */
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        const char *prog = mosquitto_path();
        execl(prog, prog, "-c", b->conf, (char *)NULL);
        _exit(127);
    }
    int saved = errno;
    close(logfd);
    if (pid < 0)
        return assay_fail(err, ASSAY_EIO, "lab broker: fork: %s", strerror(saved));
    b->pid = pid;
    return 0;
}

/* The last line of the log that says why mosquitto stopped, for an error message. */
static void log_tail(const struct labbroker *b, char *buf, size_t size)
{
    buf[0] = 0;
    FILE *f = fopen(b->log, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (strstr(line, "Error") || strstr(line, "error") || buf[0] == 0) {
            line[strcspn(line, "\n")] = 0;
            snprintf(buf, size, "%.*s", (int)(size > 1 ? size - 1 : 0), line);
        }
    }
    fclose(f);
}

/* One TCP connect to the broker; 1 when it accepted (the source port is noted), 0 if not. */
static int probe_listening(struct labbroker *b)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, b->address, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(b->o.port);
        sl = sizeof(*a4);
    } else if (inet_pton(AF_INET6, b->address, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(b->o.port);
        sl = sizeof(*a6);
    } else {
        return 0;
    }
    int s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return 0;
    int ok = connect(s, (struct sockaddr *)&ss, sl) == 0;
    if (ok) {
        struct sockaddr_storage me;
        socklen_t ml = sizeof(me);
        if (getsockname(s, (struct sockaddr *)&me, &ml) == 0)
            labbroker_record_harness_port(b, ntohs(me.ss_family == AF_INET
                                                       ? ((struct sockaddr_in *)&me)->sin_port
                                                       : ((struct sockaddr_in6 *)&me)->sin6_port));
    }
    close(s);
    return ok;
}

static int wait_ready(struct labbroker *b, struct assay_error *err)
{
    assay_ms deadline = clock_deadline(b->o.timeout_ms);
    for (;;) {
        int status;
        if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
            char why[400];
            b->pid = 0;
            log_tail(b, why, sizeof(why));
            return assay_fail(err, ASSAY_ENET, "lab broker on %s:%u exited at start: %s",
                              b->address, (unsigned)b->o.port, why[0] ? why : "(no log)");
        }
        if (probe_listening(b))
            return 0;
        if (clock_remaining_ms(deadline) == 0)
            return assay_fail(err, ASSAY_ETIMEOUT, "lab broker on %s:%u not listening after %d ms",
                              b->address, (unsigned)b->o.port, b->o.timeout_ms);
        pause_ms(POLL_MS);
    }
}

static int prepare_certs(struct labbroker *b, struct assay_error *err)
{
    int issued = 0;
    if (b->o.tls == LABBROKER_UNTRUSTED) {
        b->keys_to_delete = true;
        return labcert_untrusted(b->dir, b->address, &b->pair, err);
    }
    if (b->o.tls == LABBROKER_TRUSTED) {
        if (!b->o.ca_file)
            return assay_fail(err, ASSAY_EINVAL,
                              "lab broker: a trusted certificate needs the lab CA (`ca`)");
        int rc = labcert_trusted(b->dir, b->o.ca_file, b->address, &b->pair, &issued, err);
        b->keys_to_delete = issued;
        return rc;
    }
    return 0;
}

int labbroker_start(const struct labbroker_opts *o, struct labbroker **out, struct assay_error *err)
{
    *out = NULL;
    if (!o || !o->address || !o->scope || o->port == 0 || o->timeout_ms <= 0 ||
        strlen(o->address) >= 64 || o->payload_max > LABBROKER_PAYLOAD_MAX)
        return assay_fail(err, ASSAY_EINVAL, "lab broker: bad options");
    if (!scope_allows(o->scope, o->address))
        return assay_fail(err, ASSAY_ESCOPE, "lab broker address %s is not in the bench's scope",
                          o->address);
    assay_ms started = clock_now_ms();
    struct labbroker *b = calloc(1, sizeof(*b));
    if (!b)
        return assay_fail(err, ASSAY_ENOMEM, "lab broker: out of memory");
    b->o = *o;
    snprintf(b->address, sizeof(b->address), "%s", o->address);
    int rc = make_dir(b, o->dir, err);
    if (rc == 0)
        rc = prepare_certs(b, err);
    if (rc == 0)
        rc = write_conf(b, err);
    if (rc == 0)
        rc = spawn(b, err);
    if (rc == 0)
        rc = wait_ready(b, err);
    if (rc) {
        labbroker_free(b);
        return rc;
    }
    b->ready_at = clock_now_ms();
    char summary[160];
    snprintf(summary, sizeof(summary), "lab broker (mosquitto pid %ld) listening after %lld ms, %s",
             (long)b->pid, (long long)(b->ready_at - started), labbroker_tls_name(o->tls));
    char peer[96];
    snprintf(peer, sizeof(peer), "%s:%u", b->address, (unsigned)o->port);
    transcript_note(o->sink, "mqtt", peer, "labbroker-start", summary);
    *out = b;
    return 0;
}

uint16_t labbroker_port(const struct labbroker *b)
{
    return b->o.port;
}

const char *labbroker_dir(const struct labbroker *b)
{
    return b->dir;
}

static bool satisfied(const struct labbroker *b, const struct labbroker_wait *w)
{
    return (w->connects > 0 && b->rec.nconnects >= w->connects) ||
           (w->messages > 0 && b->rec.nmessages >= w->messages);
}

int labbroker_collect(struct labbroker *b, const struct labbroker_wait *w,
                      const struct labbroker_record **rec, struct assay_error *err)
{
    assay_ms deadline = clock_deadline(w->ms > 0 ? w->ms : 0);
    for (;;) {
        int rc = labbroker_record_read(b, err);
        if (rc)
            return rc;
        int status;
        if (b->pid > 0 && waitpid(b->pid, &status, WNOHANG) == b->pid) {
            b->pid = 0; /* mosquitto ended on its own: what it recorded stands */
            labbroker_record_read(b, err);
            transcript_note(b->o.sink, "mqtt", b->address, "labbroker-exit",
                            "lab broker exited on its own");
        }
        if (satisfied(b, w) || clock_remaining_ms(deadline) == 0 || b->pid == 0)
            break;
        int64_t left = clock_remaining_ms(deadline);
        pause_ms(left < 50 ? (int)left : 50);
    }
    *rec = &b->rec;
    return 0;
}

int labbroker_publish(struct labbroker *b, const char *topic, const void *payload, size_t len,
                      int qos, bool retain, struct assay_error *err)
{
    if (b->pid == 0)
        return assay_fail(err, ASSAY_EINVAL, "lab broker: already stopped");
    if (!b->pub) {
        struct mqttdrv_target t = {.host = b->address,
                                   .port = b->o.port,
                                   .scope = b->o.scope,
                                   .sink = b->o.sink,
                                   .timeout_ms = b->o.timeout_ms};
        struct mqttdrv_connect_opts co = {.version = 4,
                                          .client_id = LABBROKER_HARNESS_ID "publisher",
                                          .tls = {.enabled = b->o.tls != LABBROKER_PLAIN}};
        struct mqttdrv_connack ack;
        int rc = mqttdrv_session_open(&t, &co, &b->pub, &ack, err);
        if (rc)
            return rc;
        if (!b->pub)
            return assay_fail(err, ASSAY_ENET,
                              "lab broker: the harness's own connection failed "
                              "(%s %s)",
                              mqttdrv_outcome_name(ack.outcome), ack.detail);
    }
    return mqttdrv_publish(b->pub, topic, payload, len, qos, retain, err);
}

static void delete_keys(struct labbroker *b)
{
    if (b->keys_to_delete) {
        unlink(b->pair.key);
        b->keys_to_delete = false;
    }
}

void labbroker_stop(struct labbroker *b, struct labbroker_exit *ex)
{
    struct labbroker_exit e = {0};
    if (b->pub) {
        mqttdrv_session_close(b->pub);
        b->pub = NULL;
    }
    if (b->pid > 0) {
        assay_ms t0 = clock_now_ms();
        int status = 0;
        kill(b->pid, SIGTERM);
        assay_ms deadline = clock_deadline(TERM_GRACE_MS);
        pid_t r;
        while ((r = waitpid(b->pid, &status, WNOHANG)) == 0 && clock_remaining_ms(deadline) > 0)
            pause_ms(10);
        if (r == 0) {
            kill(b->pid, SIGKILL);
            e.killed = true;
            while (waitpid(b->pid, &status, 0) < 0 && errno == EINTR) {
            }
        }
        e.status = status;
        e.stop_ms = clock_now_ms() - t0;
        b->pid = 0;
        struct assay_error ignored = {0};
        labbroker_record_read(b, &ignored);
        char summary[128];
        snprintf(summary, sizeof(summary), "lab broker stopped after %lld ms%s",
                 (long long)e.stop_ms, e.killed ? " (SIGKILL)" : "");
        char peer[96];
        snprintf(peer, sizeof(peer), "%s:%u", b->address, (unsigned)b->o.port);
        transcript_note(b->o.sink, "mqtt", peer, "labbroker-stop", summary);
    }
    delete_keys(b);
    if (ex)
        *ex = e;
}

static void remove_dir(const char *dir)
{
    static const char *const names[] = {"mosquitto.conf", "mosquitto.log", "record.tsv",
                                        "trusted.crt",    "trusted.key",   "untrusted.crt",
                                        "untrusted.key"};
    char path[LABBROKER_PATH_MAX + 32];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

void labbroker_free(struct labbroker *b)
{
    if (!b)
        return;
    labbroker_stop(b, NULL);
    if (b->own_dir && b->dir[0])
        remove_dir(b->dir);
    labbroker_record_release(b);
    free(b);
}

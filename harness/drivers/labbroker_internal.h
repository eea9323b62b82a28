/*
 * labbroker_internal.h: what labbroker.c and labbroker_record.c share: the
 * broker struct and the incremental reader of the plugin's record and of
 * mosquitto's log. Not for other modules.
 */
#ifndef ASSAY_DRIVERS_LABBROKER_INTERNAL_H
#define ASSAY_DRIVERS_LABBROKER_INTERNAL_H

#include <sys/types.h>

#include "core/clock.h"
#include "drivers/labbroker.h"
#include "drivers/labbroker_certs.h"

#define LABBROKER_PATH_MAX 4096
#define LABBROKER_MAX_PORTS 64 /* TCP source ports of the harness's own connections */

struct mqttdrv_session;

struct labbroker {
    struct labbroker_opts o;
    char address[64];
    char dir[LABBROKER_PATH_MAX];
    char conf[LABBROKER_PATH_MAX + 32];
    char log[LABBROKER_PATH_MAX + 32];
    char record_path[LABBROKER_PATH_MAX + 32];
    bool own_dir; /* a /tmp directory, removed at free */
    struct labcert_pair pair;
    bool keys_to_delete; /* pair.key was generated here */
    pid_t pid;           /* 0 once reaped */
    assay_ms ready_at;
    struct mqttdrv_session *pub;

    /* the record, read incrementally */
    struct labbroker_record rec;
    size_t cap_connects, cap_messages;
    long record_off, log_off;
    unsigned harness_ports[LABBROKER_MAX_PORTS]; /* excluded from tcp_connections */
    size_t nharness_ports;
    size_t log_connections; /* "New connection from" lines */
    size_t log_harness;     /* of them, the harness's */
};

/* Reads new lines of record.tsv and mosquitto.log into b->rec. Returns 0 or ASSAY_ENOMEM. */
int labbroker_record_read(struct labbroker *b, struct assay_error *err);

/* Marks a TCP source port as the harness's own (its connections are not counted). */
void labbroker_record_harness_port(struct labbroker *b, unsigned port);

/* Frees what the record holds. */
void labbroker_record_release(struct labbroker *b);

#endif

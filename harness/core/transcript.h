/*
 * transcript.h: the transcript sink, the interface drivers write evidence to.
 *
 * Drivers describe what they did at message level (a request, a reply, codes,
 * timings) and the exact bytes of everything sent or received on raw paths.
 * They know nothing of how it is stored: the sink is a pair of callbacks that
 * the evidence layer (or a test) supplies. A NULL sink discards everything.
 *
 * Ownership: the sink never takes ownership of the pointers in an entry; it
 * copies what it keeps before returning. Calls do not block beyond a local
 * file write.
 */
#ifndef ASSAY_CORE_TRANSCRIPT_H
#define ASSAY_CORE_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

enum transcript_dir {
    TRANSCRIPT_NOTE = 0, /* something the driver did or saw that is not traffic */
    TRANSCRIPT_SEND,     /* harness -> device */
    TRANSCRIPT_RECV      /* device -> harness */
};

struct transcript_entry {
    const char *protocol; /* "mqtt", "coap", "modbus", "tcp", "udp", "http", ... */
    enum transcript_dir dir;
    const char *peer;     /* "127.0.0.2:1883" */
    const char *event;    /* short name: "connect", "connack", "raw", "timeout", ... */
    const char *summary;  /* one human-readable line, may be NULL */
    const uint8_t *bytes; /* exact bytes on raw paths, may be NULL */
    size_t nbytes;
    const char *detail_json; /* extra fields as a JSON object text, may be NULL */
};

struct transcript_sink {
    /* Records one entry. The sink adds the timestamps and the current test case. */
    void (*write)(void *ctx, const struct transcript_entry *e);
    void *ctx;
};

/* Writes e to sink if sink and sink->write are set; otherwise does nothing. */
void transcript_write(const struct transcript_sink *sink, const struct transcript_entry *e);

/* Convenience: a NOTE or message entry without bytes. */
void transcript_note(const struct transcript_sink *sink, const char *protocol, const char *peer,
                     const char *event, const char *summary);

#endif

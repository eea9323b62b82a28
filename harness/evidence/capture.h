/*
 * capture.h: the packet capture of one device's traffic (DESIGN.md, Evidence).
 *
 * capture_open() captures, with libpcap, every packet to or from one device
 * address on the interface that routes to it ("lo" for 127.0.0.0/8 and ::1;
 * otherwise the interface that owns the source address the kernel picks for
 * that destination), filtered with BPF "host <address>". A thread owned by
 * the capture reads the packets in non-blocking mode under poll(2) (a
 * blocking pcap_dispatch never returns while nothing matches: TOOLCHAIN.md
 * 4e) and writes them to a classic pcap file (readable by tcpdump, tshark and
 * Wireshark), flushed after every batch, so a worker that is killed leaves
 * every packet read so far on disk. An existing capture file (a resumed run)
 * is appended to, not overwritten.
 *
 * capture_mark() records a labelled point in the capture (a test case's
 * start and end): the packets queued before it are written first, then the
 * mark gets the wall-clock time (the clock pcap timestamps use) and the
 * number of packets written so far, so `frame.number > a && frame.number <=
 * b` slices one test case out. Marks are kept in a JSON sidecar next to the
 * capture (capture_marks_path()), rewritten whole (temporary file + rename)
 * at every mark, so it is always complete:
 *
 *   {"capture": "capture.pcap", "interface": "lo", "filter": "host 127.0.0.2",
 *    "marks": [{"label": "start mqtt.x", "time_sec": 1764298808, "time_usec": 123456,
 *               "utc": "2026-11-28T02:40:08.123456Z", "packets": 12, "dropped": 0}, ...],
 *    "packets": 40, "dropped": 0}                  (the last two written at close)
 *
 * "dropped" counts matching packets the kernel could not queue (the reader
 * fell behind by more than CAPTURE_BUFFER_BYTES): a capture with drops is
 * incomplete, and says so. The ring is TPACKET_V3 (libpcap without immediate
 * mode): packets are packed one after the other in its blocks, so its 4 MiB
 * hold 4 MiB of traffic. (A TPACKET_V2 ring, what immediate mode uses, gives
 * every packet a slot as large as lo's 64 KiB MTU: 64 MiB of memory mapped
 * into the worker for 32 MiB asked, or about 30 packets in libpcap's default
 * 2 MiB.) A block is handed to the reader when full or a few milliseconds
 * after its first packet; a mark waits until every packet the kernel counted
 * for the capture has been read (at most about 5 ms).
 *
 * Capture needs root or CAP_NET_RAW. When it is not permitted (or the
 * interface is missing), capture_open() fails with a message saying so; the
 * caller records it in run.json ("capture": {"enabled": false, "reason":
 * err.msg}), says it on the terminal, and carries on with transcripts.
 *
 * Threads: one capture is used by one thread (the worker); the capture's own
 * reader thread is internal. Blocking: capture_open() blocks for the pcap set
 * up (local, no network wait); capture_mark() waits for the reader thread, at
 * most CAPTURE_MARK_TIMEOUT_MS; capture_close() returns within
 * CAPTURE_STOP_TIMEOUT_MS plus the final flush.
 */
#ifndef ASSAY_EVIDENCE_CAPTURE_H
#define ASSAY_EVIDENCE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/error.h"

#define CAPTURE_IFNAME_MAX 64
#define CAPTURE_LABEL_MAX 256
#define CAPTURE_MARK_TIMEOUT_MS 1000
#define CAPTURE_STOP_TIMEOUT_MS 200
#define CAPTURE_SNAPLEN 65535
#define CAPTURE_BUFFER_BYTES (4 * 1024 * 1024)  /* the kernel ring for one capture */
#define CAPTURE_FILE_LIMIT_BYTES (512ull << 20) /* one device's capture file, at most */

struct capture;

/*
 * The name of the interface that routes to `address` (a numeric IPv4 or IPv6
 * address) into `ifname` (CAPTURE_IFNAME_MAX bytes): "lo" for loopback
 * addresses; otherwise a UDP socket is connected to the address (no packet
 * is sent), getsockname() gives the source address the kernel chose, and
 * getifaddrs() maps it to the interface holding it. Returns 0, ASSAY_EINVAL
 * (not a numeric address) or ASSAY_ENET (no route, no interface).
 */
int capture_route_ifname(const char *address, char *ifname, struct assay_error *err);

/*
 * Starts capturing traffic to and from `address` (numeric IPv4 or IPv6) on
 * `ifname`, or on the interface that routes to it when `ifname` is NULL,
 * into `pcap_path` (created, or appended to when it already holds a capture
 * of the same link type). The marks sidecar is capture_marks_path(pcap_path);
 * an existing one is read and extended. The file header is on disk when this
 * returns. Returns 0 with *out owned by the caller (capture_close), or
 * ASSAY_EINVAL (bad address), ASSAY_ENET (no interface routes to it),
 * ASSAY_EIO (capture not permitted, pcap or file failure: err says which;
 * "capture not permitted" when libpcap reports missing privileges) or
 * ASSAY_ENOMEM, with *out NULL.
 */
int capture_open(const char *ifname, const char *address, const char *pcap_path,
                 struct capture **out, struct assay_error *err);

/*
 * Records a mark named `label` (truncated to CAPTURE_LABEL_MAX - 1 bytes;
 * the worker uses "start <test case id>" and "end <test case id>") after
 * writing every packet already captured. Returns 0, ASSAY_ETIMEOUT (the
 * reader thread did not answer within CAPTURE_MARK_TIMEOUT_MS), ASSAY_EIO
 * (the sidecar could not be written, or the capture has failed) or
 * ASSAY_EINVAL.
 */
int capture_mark(struct capture *cap, const char *label, struct assay_error *err);

/*
 * Stops the reader thread (it wakes at once and writes what is queued),
 * flushes and closes the pcap file, and frees cap. NULL is a no-op. Returns 0,
 * or ASSAY_EIO when the capture failed at some point (the file holds every
 * packet up to the failure; err says what happened).
 */
int capture_close(struct capture *cap, struct assay_error *err);

/* Packets in the file so far, an earlier capture appended to included (the last frame number). */
uint64_t capture_packets(const struct capture *cap);

/* Matching packets the kernel dropped, as of the last mark (0 before any). */
uint64_t capture_dropped(const struct capture *cap);

/* Packets left out because the file reached its limit (CAPTURE_FILE_LIMIT_BYTES
 * unless set): counted, not written. */
uint64_t capture_not_written(const struct capture *cap);

/* Sets the file's limit (tests use a small one). */
void capture_set_file_limit(struct capture *cap, uint64_t bytes);

/* The interface being captured on; lives as long as cap. */
const char *capture_ifname(const struct capture *cap);

/*
 * The worker's call: capture_open(NULL, address, "<run_dir>/devices/<device_id>/capture.pcap").
 * The directory must exist (the transcript file creates it). Returns as capture_open.
 */
int capture_open_device(const char *run_dir, const char *device_id, const char *address,
                        struct capture **out, struct assay_error *err);

/*
 * run.json's per-device "capture" object (new reference, NULL on ENOMEM):
 * with a capture, {"enabled": true, "file": "devices/<id>/capture.pcap",
 * "marks": "devices/<id>/capture.marks.json", "interface": "lo", "filter":
 * "host ...", "packets": N, "dropped": D}; without one (cap NULL), {"enabled": false,
 * "reason": why} with why the message capture_open() gave.
 */
json_t *capture_status_json(const struct capture *cap, const char *device_id, const char *why);

/* "<pcap_path without .pcap>.marks.json" into buf; returns 0 or ASSAY_EINVAL if too long. */
int capture_marks_path(const char *pcap_path, char *buf, size_t size);

/*
 * The TLS key log path for a device: "<run_dir>/devices/<device_id>/tls-keys.log"
 * into buf. Drivers that own their TLS context (the MQTT TLS probe) append
 * NSS key log lines there, so Wireshark or `tshark -o tls.keylog_file:PATH`
 * decrypts the captured sessions. Returns 0 or ASSAY_EINVAL if too long.
 */
int capture_keylog_path(const char *run_dir, const char *device_id, char *buf, size_t size);

#endif

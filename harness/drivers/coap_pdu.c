/*
 * coap_pdu.c: process set-up, names and sizes for the CoAP driver (see
 * coap.h and coap_internal.h): libcoap start-up and silencing, outcome and
 * option names, a PDU's size on the wire and its one-line transcript summary.
 */
#include "coap_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* libcoap's log lines are not evidence and are dropped; the one fact taken from
 * them is an ICMP error, which libcoap reports for DTLS sessions only there. */
static int icmp_seen;

static void discard_log(coap_log_t level, const char *message)
{
    (void)level;
    if (message && strstr(message, "ICMP"))
        icmp_seen = 1;
}

void coapdrv_icmp_reset(void)
{
    icmp_seen = 0;
}

bool coapdrv_icmp_seen(void)
{
    return icmp_seen != 0;
}

static void global_init_once(void)
{
    coap_startup();
    coap_set_log_handler(discard_log);
    coap_set_show_pdu_output(0);
    coap_set_log_level(LOG_WARNING); /* handled by discard_log, never printed */
    coap_dtls_set_log_level(LOG_EMERG);
}

void coapdrv_global_init(void)
{
    pthread_once(&init_once, global_init_once);
}

const char *coapdrv_outcome_name(enum coapdrv_outcome o)
{
    static const char *const names[] = {"RESPONSE",    "RESET",       "SILENCE",
                                        "UNREACHABLE", "DTLS_FAILED", "REQUEST"};
    return (unsigned)o < sizeof names / sizeof *names ? names[o] : "UNKNOWN";
}

const char *coapdrv_outcome_reason(enum coapdrv_outcome o)
{
    static const char *const reasons[] = {"response",
                                          "reset",
                                          "timeout",
                                          "unreachable",
                                          "dtls handshake failed",
                                          "the device sent a request instead of a response"};
    return (unsigned)o < sizeof reasons / sizeof *reasons ? reasons[o] : "unknown";
}

const char *coapdrv_option_name(uint16_t number)
{
    switch (number) {
    case 1: return "If-Match";
    case 3: return "Uri-Host";
    case 4: return "ETag";
    case 5: return "If-None-Match";
    case 6: return "Observe";
    case 7: return "Uri-Port";
    case 8: return "Location-Path";
    case 11: return "Uri-Path";
    case 12: return "Content-Format";
    case 14: return "Max-Age";
    case 15: return "Uri-Query";
    case 17: return "Accept";
    case 20: return "Location-Query";
    case 23: return "Block2";
    case 27: return "Block1";
    case 28: return "Size2";
    case 35: return "Proxy-Uri";
    case 39: return "Proxy-Scheme";
    case 60: return "Size1";
    case 258: return "No-Response";
    default: return NULL;
    }
}

size_t coapdrv_pdu_wire_size(const coap_pdu_t *pdu)
{
    coap_opt_iterator_t it;
    coap_opt_t *o;
    size_t n = 4 + coap_pdu_get_token(pdu).length, len = 0;
    const uint8_t *data = NULL;
    coap_option_iterator_init(pdu, &it, COAP_OPT_ALL);
    while ((o = coap_option_next(&it)) != NULL)
        n += coap_opt_size(o);
    if (coap_get_data(pdu, &len, &data) && len)
        n += 1 + len;
    return n;
}

void coapdrv_pdu_summary(const coap_pdu_t *pdu, char *buf, size_t n)
{
    static const char *const types[] = {"CON", "NON", "ACK", "RST"};
    coap_pdu_code_t c = coap_pdu_get_code(pdu);
    size_t len = 0;
    const uint8_t *data = NULL;
    coap_get_data(pdu, &len, &data);
    snprintf(buf, n, "%s %u.%02u mid=0x%04x %zu-byte payload", types[coap_pdu_get_type(pdu) & 3],
             (unsigned)c >> 5, (unsigned)c & 31, (unsigned)coap_pdu_get_mid(pdu) & 0xffff, len);
}

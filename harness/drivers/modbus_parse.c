/*
 * modbus_parse.c: bounded parsers for the Modbus/TCP replies the driver reads
 * itself (FC 0x2B / MEI 0x0E device identification, FC 0x11 report server
 * id). Pure functions over (buf, len): no I/O, so they can be fuzzed.
 */
#include "modbus_internal.h"

#include <string.h>

#define MBAP_LEN 7 /* transaction id, protocol id, length, unit id */

static unsigned be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

int mbi_check_header(const uint8_t *buf, size_t len, uint16_t tid, uint8_t unit, uint8_t fc,
                     int *exception, struct assay_error *err)
{
    *exception = 0;
    if (!buf || len < MBAP_LEN + 1)
        return assay_fail(err, ASSAY_EINVAL, "frame of %zu bytes is shorter than a header", len);
    if (len > MODBUS_FRAME_MAX)
        return assay_fail(err, ASSAY_EINVAL, "frame of %zu bytes is longer than %d", len,
                          MODBUS_FRAME_MAX);
    if (be16(buf + 2) != 0)
        return assay_fail(err, ASSAY_EINVAL, "protocol id %u is not 0", be16(buf + 2));
    if ((size_t)be16(buf + 4) + 6 != len)
        return assay_fail(err, ASSAY_EINVAL, "MBAP length %u disagrees with a frame of %zu bytes",
                          be16(buf + 4), len);
    if (be16(buf) != tid)
        return assay_fail(err, ASSAY_EINVAL, "transaction id %u, expected %u", be16(buf),
                          (unsigned)tid);
    if (buf[6] != unit)
        return assay_fail(err, ASSAY_EINVAL, "unit id %u, expected %u", buf[6], (unsigned)unit);
    if (buf[7] == (fc | 0x80)) {
        if (len != MBAP_LEN + 2)
            return assay_fail(err, ASSAY_EINVAL, "exception reply of %zu bytes, expected 9", len);
        if (buf[8] == 0)
            return assay_fail(err, ASSAY_EINVAL, "exception code 0");
        *exception = buf[8];
        return MBAP_LEN;
    }
    if (buf[7] != fc)
        return assay_fail(err, ASSAY_EINVAL, "function code 0x%02X, expected 0x%02X", buf[7], fc);
    return MBAP_LEN;
}

static int parse_objects(const uint8_t *buf, size_t len, size_t off, size_t n,
                         struct modbus_ident_page *page, struct assay_error *err)
{
    if (n > MODBUS_IDENT_PAGE_MAX)
        return assay_fail(err, ASSAY_EINVAL, "%zu objects in one page", n);
    for (size_t i = 0; i < n; i++) {
        if (len - off < 2)
            return assay_fail(err, ASSAY_EINVAL, "object %zu of %zu: header past the frame end",
                              i + 1, n);
        uint8_t id = buf[off], olen = buf[off + 1];
        off += 2;
        if (len - off < olen)
            return assay_fail(err, ASSAY_EINVAL,
                              "object 0x%02X: length %u runs past the frame end (%zu left)", id,
                              olen, len - off);
        page->objects[i].id = id;
        page->objects[i].len = olen;
        page->objects[i].value = buf + off;
        off += olen;
    }
    page->nobjects = n;
    if (off != len)
        return assay_fail(err, ASSAY_EINVAL, "%zu bytes after the last object", len - off);
    return 0;
}

int modbus_ident_parse(const uint8_t *buf, size_t len, uint16_t tid, uint8_t unit,
                       struct modbus_ident_page *page, struct assay_error *err)
{
    memset(page, 0, sizeof(*page));
    int exc = 0;
    int off = mbi_check_header(buf, len, tid, unit, 0x2B, &exc, err);
    if (off < 0)
        return off;
    if (exc) {
        page->exception = exc;
        return 0;
    }
    /* fc, MEI type, read code, conformity, more follows, next object id, object count */
    if (len < (size_t)off + 7)
        return assay_fail(err, ASSAY_EINVAL, "identification reply of %zu bytes is too short", len);
    const uint8_t *p = buf + off;
    if (p[1] != 0x0E)
        return assay_fail(err, ASSAY_EINVAL, "MEI type 0x%02X, expected 0x0E", p[1]);
    if (p[2] < 1 || p[2] > 4)
        return assay_fail(err, ASSAY_EINVAL, "read device id code %u is not 1..4", p[2]);
    if (p[4] != 0x00 && p[4] != 0xFF)
        return assay_fail(err, ASSAY_EINVAL, "'more follows' is 0x%02X, not 0x00 or 0xFF", p[4]);
    page->read_code = p[2];
    page->conformity = p[3];
    page->more_follows = p[4];
    page->next_object_id = p[5];
    int rc = parse_objects(buf, len, (size_t)off + 7, p[6], page, err);
    if (rc != 0)
        memset(page, 0, sizeof(*page));
    return rc;
}

int modbus_server_id_parse(const uint8_t *buf, size_t len, uint16_t tid, uint8_t unit,
                           struct modbus_server_id *out, struct assay_error *err)
{
    memset(out, 0, sizeof(*out));
    int exc = 0;
    int off = mbi_check_header(buf, len, tid, unit, 0x11, &exc, err);
    if (off < 0)
        return off;
    if (exc) {
        out->result.outcome = MODBUS_OUTCOME_EXCEPTION;
        out->result.exception = exc;
        return 0;
    }
    if (len < (size_t)off + 2)
        return assay_fail(err, ASSAY_EINVAL, "server id reply without a byte count");
    size_t bc = buf[off + 1];
    if (bc == 0)
        return assay_fail(err, ASSAY_EINVAL, "server id reply with byte count 0");
    if ((size_t)off + 2 + bc != len)
        return assay_fail(err, ASSAY_EINVAL, "byte count %zu disagrees with %zu data bytes", bc,
                          len - (size_t)off - 2);
    if (bc > sizeof(out->data))
        return assay_fail(err, ASSAY_EINVAL, "byte count %zu too large", bc);
    memcpy(out->data, buf + off + 2, bc);
    out->len = bc;
    out->result.outcome = MODBUS_OUTCOME_OK;
    return 0;
}

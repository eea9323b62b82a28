/* error.c: result codes and the error struct (see error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int assay_fail(struct assay_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *assay_strerror(int code)
{
    switch (code) {
    case ASSAY_OK: return "success";
    case ASSAY_EINVAL: return "invalid input";
    case ASSAY_ENOMEM: return "out of memory or over a limit";
    case ASSAY_EIO: return "input/output error";
    case ASSAY_ETIMEOUT: return "deadline passed";
    case ASSAY_ENET: return "network error";
    case ASSAY_ESCOPE: return "address outside the run's scope";
    case ASSAY_EPROFILE: return "profile contract violation";
    case ASSAY_EINTERNAL: return "internal error";
    default: return "unknown error";
    }
}

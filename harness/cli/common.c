/* common.c: what the subcommands share: profile root, catalogue, messages. */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/verdict.h"

#ifndef ASSAY_SOURCE_PROFILES
#define ASSAY_SOURCE_PROFILES "profiles"
#endif
#ifndef ASSAY_INSTALLED_PROFILES
#define ASSAY_INSTALLED_PROFILES "/usr/local/share/assay/profiles"
#endif
#ifndef ASSAY_BUILD_DIR
#define ASSAY_BUILD_DIR ""
#endif

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *cli_profile_root(const char *override)
{
    if (override)
        return override;
    const char *env = getenv("ASSAY_PROFILE_PATH");
    if (env && *env)
        return env;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    size_t blen = strlen(ASSAY_BUILD_DIR);
    if (n > 0) {
        exe[n] = 0;
        if (blen && !strncmp(exe, ASSAY_BUILD_DIR, blen) && is_dir(ASSAY_SOURCE_PROFILES))
            return ASSAY_SOURCE_PROFILES;
        /* Installed under another prefix than configured: <prefix>/bin/assay finds
         * <prefix>/share/assay/profiles. */
        static char beside[PATH_MAX + 32];
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(beside, sizeof(beside), "%s/../share/assay/profiles", exe);
            if (is_dir(beside))
                return beside;
        }
    }
    return ASSAY_INSTALLED_PROFILES;
}

int cli_load_catalogue(const char *root, struct catalogue *cat)
{
    char path[PATH_MAX];
    struct diag_list diags;
    snprintf(path, sizeof(path), "%s/obligations.yaml", root);
    diag_init(&diags);
    int rc = catalogue_load(cat, path, &diags);
    diag_print(&diags, stderr);
    diag_release(&diags);
    if (rc) {
        fprintf(stderr, "assay: the obligation catalogue %s is not usable\n", path);
        return ASSAY_EXIT_USAGE;
    }
    return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "assay %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'assay %s --help' for usage.\n", cmd);
    return ASSAY_EXIT_USAGE;
}

bool cli_stdout_is_tty(void)
{
    return isatty(STDOUT_FILENO) == 1;
}

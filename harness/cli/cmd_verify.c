/* cmd_verify.c: `assay verify RUN_DIR|ARCHIVE`: check a sealed run's hashes, journal and signature.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/verdict.h"
#include "evidence/verify.h"

static void help(void)
{
    printf("usage: assay verify RUN_DIR|ARCHIVE [--pubkey FILE]... [--trust FILE]... "
           "[--unsigned-ok]\n\n"
           "Checks a sealed run, as its directory or its .tar.gz archive: every file against\n"
           "MANIFEST.sha256 (naming each modified, missing and added file), the hash chain of\n"
           "journal.jsonl, and MANIFEST.sig against the keys given, and only those. An archive\n"
           "is extracted into a temporary directory first; entries with '..', absolute paths,\n"
           "links or devices are refused.\n\n"
           "  -k, --pubkey FILE   trust this PEM public key (from 'assay keygen'); repeatable\n"
           "  -t, --trust FILE    trust the keys a trust file lists; repeatable. One entry a\n"
           "                      line: the path of a PEM public key (relative to the trust\n"
           "                      file) or an inline -----BEGIN PUBLIC KEY----- block; blank\n"
           "                      lines and lines starting with '#' are ignored\n"
           "  -u, --unsigned-ok   accept a run that has no MANIFEST.sig\n"
           "  -h, --help          this text\n\n"
           "One line is printed per problem, then \"verified: N files, signed by FINGERPRINT\"\n"
           "or \"NOT verified: N problems\".\n\n"
           "Exit codes:\n"
           "  0  everything holds\n"
           "  1  a check failed (a problem is printed for each)\n"
           "  2  usage or input error (no key given, a key that does not load, no such path)\n");
}

/* Parses the options, then loads the keys they name (options are all checked
 * before any file is read). Returns 0, -1 after --help, or an exit code. */
static int load_keys(int argc, char **argv, struct sign_keyring *ring, bool *unsigned_ok,
                     const char **target)
{
    static const struct option opts[] = {
        {"pubkey", required_argument, NULL, 'k'},
        {"trust", required_argument, NULL, 't'},
        {"unsigned-ok", no_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct {
        int kind;
        const char *path;
    } keys[64];
    size_t nkeys = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:t:uh", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
        case 't':
            if (nkeys == sizeof(keys) / sizeof(keys[0]))
                return cli_usage_error("verify", "more than 64 --pubkey and --trust options");
            keys[nkeys].kind = c;
            keys[nkeys++].path = optarg;
            break;
        case 'u': *unsigned_ok = true; break;
        case 'h': help(); return -1;
        default: return cli_usage_error("verify", "unknown option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("verify", "expected exactly one run directory or archive");
    *target = argv[optind];
    if (nkeys == 0 && !*unsigned_ok)
        return cli_usage_error("verify", "no key to trust: give --pubkey FILE or --trust FILE "
                                         "(or --unsigned-ok to accept an unsigned run)");
    struct assay_error err = {0};
    for (size_t i = 0; i < nkeys; i++) {
        int rc = keys[i].kind == 'k' ? sign_keyring_add_file(ring, keys[i].path, &err)
                                     : sign_keyring_add_trust(ring, keys[i].path, &err);
        if (rc)
            return cli_usage_error("verify", "%s", err.msg);
    }
    return 0;
}

int cmd_verify(int argc, char **argv)
{
    struct sign_keyring ring = {0};
    bool unsigned_ok = false;
    const char *target = NULL;
    int rc = load_keys(argc, argv, &ring, &unsigned_ok, &target);
    if (rc) {
        sign_keyring_release(&ring);
        return rc < 0 ? ASSAY_EXIT_OK : rc;
    }
    struct verify_options opt = {.ring = &ring, .unsigned_ok = unsigned_ok, .limits = NULL};
    struct verify_report rep = {0};
    struct assay_error err = {0};
    if (verify_path(target, &opt, &rep, &err) != 0) {
        verify_report_release(&rep);
        sign_keyring_release(&ring);
        fprintf(stderr, "assay verify: %s\n", err.msg);
        return ASSAY_EXIT_USAGE;
    }
    for (size_t i = 0; i < rep.nproblems; i++)
        printf("%s\n", rep.problems[i] ? rep.problems[i] : "(a problem lost: out of memory)");
    if (rep.unsigned_run && unsigned_ok)
        printf("unsigned: the run has no MANIFEST.sig (accepted: --unsigned-ok)\n");
    int code = ASSAY_EXIT_OK;
    if (!verify_ok(&rep)) {
        size_t n = rep.nproblems + (rep.out_of_memory ? 1 : 0);
        printf("NOT verified: %zu problem%s\n", n, n == 1 ? "" : "s");
        code = ASSAY_EXIT_FAIL;
    } else if (rep.signature_ok) {
        printf("verified: %zu files, signed by %s\n", rep.nfiles, rep.signer);
    } else {
        printf("verified: %zu files, unsigned\n", rep.nfiles);
    }
    fflush(stdout);
    verify_report_release(&rep);
    sign_keyring_release(&ring);
    return code;
}

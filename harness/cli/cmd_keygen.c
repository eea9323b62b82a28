/* cmd_keygen.c: `assay keygen PREFIX`: create an Ed25519 key pair for signing runs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/verdict.h"
#include "evidence/sign.h"

static void help(void)
{
    printf("usage: assay keygen PREFIX [--passphrase-env VAR]\n\n"
           "Creates an Ed25519 key pair for 'assay run --sign': PREFIX.key, the private key\n"
           "(PKCS#8 PEM, mode 0600), and PREFIX.pub, the public key (PEM) to give to\n"
           "'assay verify --pubkey'. Prints the key's fingerprint (SHA-256 of the raw public\n"
           "key), which MANIFEST.sig and 'assay verify' name. Existing files are never\n"
           "overwritten.\n\n"
           "  -p, --passphrase-env VAR  encrypt the private key (AES-256-CBC) with the\n"
           "                            passphrase in environment variable VAR (a passphrase\n"
           "                            is never taken from the command line)\n"
           "  -h, --help                this text\n\n"
           "Exit codes:\n"
           "  0  the key pair was written\n"
           "  2  usage or input error (a file exists, VAR unset or empty); nothing written\n");
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"passphrase-env", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *env = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': env = optarg; break;
        case 'h': help(); return ASSAY_EXIT_OK;
        default: return cli_usage_error("keygen", "unknown option");
        }
    }
    if (optind != argc - 1 || !*argv[optind])
        return cli_usage_error("keygen", "expected exactly one PREFIX (writes PREFIX.key and "
                                         "PREFIX.pub)");
    const char *prefix = argv[optind];
    const char *pass = NULL;
    if (env) {
        pass = getenv(env);
        if (!pass || !*pass)
            return cli_usage_error("keygen", "environment variable %s is unset or empty", env);
    }
    char fpr[SIGN_FPR_LEN + 1];
    struct assay_error err = {0};
    if (sign_keygen(prefix, pass, fpr, &err) != 0) {
        fprintf(stderr, "assay keygen: %s\n", err.msg);
        return ASSAY_EXIT_USAGE;
    }
    printf("private key: %s.key (%s)\n", prefix,
           pass ? "encrypted with the passphrase" : "not encrypted");
    printf("public key:  %s.pub\n", prefix);
    printf("fingerprint: %s\n", fpr);
    return ASSAY_EXIT_OK;
}

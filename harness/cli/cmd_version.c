/* cmd_version.c: `assay version`: the version of assay and of every library linked. */
#include <MQTTClient.h>
#include <coap3/coap.h>
#include <jansson.h>
#include <lua.h>
#include <modbus.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "cli.h"
#include "core/verdict.h"

static const char *paho_version(void)
{
    MQTTClient_nameValue *info = MQTTClient_getVersionInfo();
    for (; info && info->name; info++)
        if (!strcmp(info->name, "Version"))
            return info->value;
    return "unknown";
}

int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h"))
        return cli_usage_error("version", "takes no arguments");
    if (argc > 1) {
        printf("usage: assay version\n\nPrints the version of assay and of every library it "
               "links.\n");
        return ASSAY_EXIT_OK;
    }
    printf("assay %s\n", ASSAY_VERSION);
    printf("  libyaml      %s\n", yaml_get_version_string());
    printf("  jansson      %s\n", JANSSON_VERSION);
    printf("  openssl      %s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("  lua          %s\n", LUA_RELEASE);
    printf("  libmodbus    %u.%u.%u\n", libmodbus_version_major, libmodbus_version_minor,
           libmodbus_version_micro);
    printf("  libcoap      %s\n", coap_package_version());
    printf("  paho.mqtt.c  %s\n", paho_version());
    return ASSAY_EXIT_OK;
}

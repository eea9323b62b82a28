/*
 * bench_schema.c: the schemas of the bench file and the dossier.
 *
 * fixtures/bench.example.yaml and fixtures/dossiers/ts-100.yaml document each
 * key; keep them and these tables in step.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define END                                                                                        \
    {                                                                                              \
        NULL, NULL, false                                                                          \
    }

static bool valid_address(const char *s)
{
    return scope_is_address(s);
}

static bool valid_mac(const char *s)
{
    if (strlen(s) != 17)
        return false;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2) {
            if (s[i] != ':' && s[i] != '-')
                return false;
        } else if (!strchr("0123456789abcdefABCDEF", s[i])) {
            return false;
        }
    }
    return true;
}

static bool valid_obligation_id(const char *s)
{
    size_t n = strlen(s);
    return n >= 3 && n <= 32 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
}

static bool valid_resource_path(const char *s)
{
    return s[0] == '/' && strlen(s) < 256;
}

static const char *const categories[] = {"safe", "intrusive", "destructive", "dos", NULL};
static const char *const states[] = {"initialised", "factory-default", NULL};
static const char *const kinds[] = {"mqtt-broker", "mqtt-client", "coap", "modbus-tcp", NULL};
static const char *const origins[] = {"preinstalled", "user-defined", NULL};
static const char *const tables[] = {"coil", "discrete", "holding", "input", NULL};
static const char *const ics_status[] = {"applicable", "not-applicable", NULL};
static const char *const transports[] = {"tcp", "udp", "tls", "dtls", NULL};

static const struct yschema text = {.type = YS_STRING, .what = "text"};
static const struct yschema name64 = {.type = YS_STRING, .what = "a name", .max = 200};
static const struct yschema ident = {.type = YS_STRING,
                                     .what = "an identifier (letters, digits, '.', '_', '-')",
                                     .valid = yamldoc_valid_identifier};
static const struct yschema address = {
    .type = YS_STRING, .what = "an IPv4 or IPv6 address", .valid = valid_address};
static const struct yschema mac = {
    .type = YS_STRING, .what = "a MAC address (six hex octets)", .valid = valid_mac};
static const struct yschema port = {
    .type = YS_INT, .what = "a port number", .min = 1, .max = 65535};
static const struct yschema boolean = {.type = YS_BOOL, .what = "true or false"};
static const struct yschema date = {.type = YS_DATE, .what = "a date"};
static const struct yschema category = {
    .type = YS_STRING, .what = "a category", .choices = categories};
static const struct yschema category_list = {
    .type = YS_SEQ, .what = "a list of categories", .items = &category};
static const struct yschema port_list = {.type = YS_SEQ, .what = "a list of ports", .items = &port};
static const struct yschema address_list = {
    .type = YS_SEQ, .what = "a list of addresses", .items = &address};
static const struct yschema text_list = {.type = YS_SEQ, .what = "a list", .items = &text};
static const struct yschema any = {.type = YS_ANY, .what = "a value"};

/* ---- bench ---- */

static const struct yschema timeout_ms = {
    .type = YS_INT, .what = "milliseconds", .min = 1, .max = 600000};
static const struct yschema tc_timeout = {
    .type = YS_INT, .what = "seconds", .min = 1, .max = 86400};
static const struct yschema dev_timeout = {
    .type = YS_INT, .what = "seconds", .min = 1, .max = 604800};
static const struct yschema pause = {
    .type = YS_INT, .what = "milliseconds", .min = 0, .max = 60000};
static const struct yschema memory_mb = {
    .type = YS_INT, .what = "megabytes (0: no budget)", .min = 0, .max = 65536};
static const struct yschema maxconn = {
    .type = YS_INT, .what = "a connection count", .min = 1, .max = 16};

static const struct yschema_field defaults_fields[] = {
    {"timeout_ms", &timeout_ms, false},
    {"testcase_timeout_s", &tc_timeout, false},
    {"device_timeout_s", &dev_timeout, false},
    {"pause_ms", &pause, false},
    {"max_connections", &maxconn, false},
    {"worker_memory_mb", &memory_mb, false},
    {"allow", &category_list, false},
    {"scan_ports", &port_list, false},
    END,
};
static const struct yschema defaults = {
    .type = YS_MAP, .what = "the defaults", .fields = defaults_fields};

static const struct yschema unit_id = {.type = YS_INT, .what = "a unit id", .min = 0, .max = 255};
static const struct yschema kind = {
    .type = YS_STRING, .what = "an interface kind", .choices = kinds};
static const struct yschema_field interface_fields[] = {
    {"kind", &kind, true},
    {"port", &port, true},
    {"tls", &boolean, false},
    {"dtls_port", &port, false},
    {"tls_port", &port, false},
    {"unit_id", &unit_id, false},
    {"broker_address", &address, false},
    {"ca", &text, false},
    END,
};
static const struct yschema interface = {
    .type = YS_MAP, .what = "an interface", .fields = interface_fields};
static const struct yschema interfaces = {
    .type = YS_SEQ, .what = "a list of interfaces", .items = &interface, .min = 1, .max = 64};

static const struct yschema origin = {.type = YS_STRING, .what = "an origin", .choices = origins};
static const struct yschema secret = {.type = YS_STRING, .what = "a secret", .max = 1024};
static const struct yschema_field credential_fields[] = {
    {"username", &secret, false},  {"password", &secret, false},
    {"identity", &secret, false},  {"key", &secret, false},
    {"certificate", &text, false}, {"private_key", &text, false},
    {"origin", &origin, true},     END,
};
static const struct yschema credential = {
    .type = YS_MAP, .what = "a credential", .fields = credential_fields};
static const struct yschema credentials = {.type = YS_DICT,
                                           .what = "credentials by role",
                                           .items = &credential,
                                           .valid_key = yamldoc_valid_identifier,
                                           .key_what = "a role name"};

static const struct yschema state = {.type = YS_STRING, .what = "a state", .choices = states};
static const struct yschema_field device_fields[] = {
    {"id", &ident, true},
    {"model", &ident, true},
    {"serial", &name64, true},
    {"mac", &mac, false},
    {"firmware", &name64, false},
    {"address", &address, true},
    {"state", &state, true},
    {"allow", &category_list, false},
    {"interfaces", &interfaces, true},
    {"credentials", &credentials, false},
    END,
};
static const struct yschema device = {.type = YS_MAP, .what = "a device", .fields = device_fields};
static const struct yschema devices = {.type = YS_SEQ,
                                       .what = "a list of devices",
                                       .items = &device,
                                       .min = 1,
                                       .max = BENCH_MAX_DEVICES};
static const struct yschema dossier_paths = {.type = YS_DICT,
                                             .what = "dossier files by model",
                                             .items = &text,
                                             .valid_key = yamldoc_valid_identifier,
                                             .key_what = "a model name"};
static const struct yschema parameters = {.type = YS_DICT,
                                          .what = "parameters by test case",
                                          .items = &any,
                                          .valid_key = yamldoc_valid_identifier,
                                          .key_what = "a test-case id"};
static const struct yschema schema_version = {
    .type = YS_INT, .what = "the format version", .min = 1, .max = 1};

static const struct yschema_field bench_fields[] = {
    {"schema", &schema_version, false},
    {"name", &name64, true},
    {"lab", &name64, true},
    {"operator", &name64, true},
    {"defaults", &defaults, false},
    {"allowed_hosts", &address_list, false},
    {"parameters", &parameters, false},
    {"devices", &devices, true},
    {"dossiers", &dossier_paths, true},
    END,
};
const struct yschema bench_schema = {.type = YS_MAP, .what = "a bench", .fields = bench_fields};

/* ---- dossier ---- */

static const struct yschema_field manufacturer_fields[] = {
    {"name", &name64, true},
    {"address", &text, false},
    END,
};
static const struct yschema manufacturer = {
    .type = YS_MAP, .what = "the manufacturer", .fields = manufacturer_fields};

static const struct yschema_field signatory_fields[] = {
    {"name", &name64, false},
    {"function", &name64, false},
    {"place", &name64, false},
    {"date", &date, false},
    END,
};
static const struct yschema signatory = {
    .type = YS_MAP, .what = "the signatory", .fields = signatory_fields};
/* Every field is optional here: a missing one is a PSTI-SOC finding, not a load error. */
static const struct yschema_field soc_fields[] = {
    {"product_type", &text, false},
    {"batch", &text, false},
    {"manufacturer", &manufacturer, false},
    {"prepared_by_or_for_manufacturer", &boolean, false},
    {"declaration", &boolean, false},
    {"support_period_end", &date, false},
    {"support_period", &text, false},
    {"signatory", &signatory, false},
    END,
};
static const struct yschema soc = {
    .type = YS_MAP, .what = "the statement of compliance", .fields = soc_fields};

static const struct yschema_field page_fields[] = {
    {"url", &text, false},
    {"file", &text, false},
    END,
};
static const struct yschema page = {
    .type = YS_MAP, .what = "a page (url or file)", .fields = page_fields};
static const struct yschema pages = {.type = YS_DICT,
                                     .what = "published pages",
                                     .items = &page,
                                     .valid_key = yamldoc_valid_identifier,
                                     .key_what = "a page name"};

static const struct yschema ics_status_s = {
    .type = YS_STRING, .what = "a status", .choices = ics_status};
static const struct yschema_field ics_fields[] = {
    {"status", &ics_status_s, true},
    {"justification", &text, false},
    END,
};
static const struct yschema ics_entry = {
    .type = YS_MAP, .what = "an ICS entry", .fields = ics_fields};
static const struct yschema ics = {.type = YS_DICT,
                                   .what = "ICS entries",
                                   .items = &ics_entry,
                                   .valid_key = valid_obligation_id,
                                   .key_what = "an obligation id"};

static const struct yschema transport = {
    .type = YS_STRING, .what = "a transport", .choices = transports};
static const struct yschema_field ixit_if_fields[] = {
    {"kind", &kind, true},
    {"port", &port, true},
    {"transport", &transport, false},
    END,
};
static const struct yschema ixit_if = {
    .type = YS_MAP, .what = "a declared interface", .fields = ixit_if_fields};
static const struct yschema ixit_ifs = {
    .type = YS_SEQ, .what = "a list of interfaces", .items = &ixit_if};

static const struct yschema table = {
    .type = YS_STRING, .what = "a register table", .choices = tables};
static const struct yschema reg_address = {
    .type = YS_INT, .what = "a register address", .min = 0, .max = 65535};
static const struct yschema reg_count = {
    .type = YS_INT, .what = "a register count", .min = 1, .max = 65536};
static const struct yschema_field register_fields[] = {
    {"table", &table, true},
    {"address", &reg_address, true},
    END,
};
static const struct yschema reg = {.type = YS_MAP, .what = "a register", .fields = register_fields};
static const struct yschema reg_list = {
    .type = YS_SEQ, .what = "a list of registers", .items = &reg};
static const struct yschema_field range_fields[] = {
    {"table", &table, true},
    {"start", &reg_address, true},
    {"count", &reg_count, true},
    END,
};
static const struct yschema range = {
    .type = YS_MAP, .what = "a register range", .fields = range_fields};
static const struct yschema range_list = {
    .type = YS_SEQ, .what = "a register map", .items = &range};
static const struct yschema function_code = {
    .type = YS_INT, .what = "a function code", .min = 1, .max = 127};
static const struct yschema fc_list = {
    .type = YS_SEQ, .what = "a list of function codes", .items = &function_code};
static const struct yschema resource = {
    .type = YS_STRING, .what = "a resource path starting with '/'", .valid = valid_resource_path};
static const struct yschema resource_list = {
    .type = YS_SEQ, .what = "a list of resources", .items = &resource};

static const struct yschema_field security_relevant_fields[] = {
    {"mqtt_topics", &text_list, false},
    {"coap_resources", &resource_list, false},
    {"modbus_registers", &reg_list, false},
    END,
};
static const struct yschema security_relevant = {
    .type = YS_MAP, .what = "security-relevant items", .fields = security_relevant_fields};
static const struct yschema_field ixit_mqtt_fields[] = {
    {"command_topic", &text, false},
    {"state_topic", &text, false},
    {"harmless_command", &text, false},
    {"message_authentication", &boolean, false},
    END,
};
static const struct yschema ixit_mqtt = {
    .type = YS_MAP, .what = "MQTT details", .fields = ixit_mqtt_fields};
static const struct yschema_field ixit_coap_fields[] = {
    {"resources", &resource_list, false},
    {"config_resource", &resource, false},
    END,
};
static const struct yschema ixit_coap = {
    .type = YS_MAP, .what = "CoAP details", .fields = ixit_coap_fields};
static const struct yschema_field identification_fields[] = {
    {"vendor_name", &text, false},
    {"product_code", &text, false},
    {"revision", &text, false},
    END,
};
static const struct yschema identification = {
    .type = YS_MAP, .what = "identification objects", .fields = identification_fields};
static const struct yschema_field ixit_modbus_fields[] = {
    {"function_codes", &fc_list, false},
    {"identification", &identification, false},
    {"map", &range_list, false},
    {"liveness_register", &reg, false},
    {"static_registers", &reg_list, false},
    END,
};
static const struct yschema ixit_modbus = {
    .type = YS_MAP, .what = "Modbus details", .fields = ixit_modbus_fields};
static const struct yschema_field ixit_fields[] = {
    {"interfaces", &ixit_ifs, false},
    {"services", &text_list, false},
    {"disclosed_information", &text_list, false},
    {"security_relevant", &security_relevant, false},
    {"mqtt", &ixit_mqtt, false},
    {"coap", &ixit_coap, false},
    {"modbus", &ixit_modbus, false},
    END,
};
static const struct yschema ixit = {.type = YS_MAP, .what = "the IXIT", .fields = ixit_fields};

static const struct yschema_field dossier_fields[] = {
    {"schema", &schema_version, false},
    {"model", &ident, true},
    {"product_name", &text, false},
    {"manufacturer", &manufacturer, true},
    {"statement_of_compliance", &soc, false},
    {"published", &pages, false},
    {"ics", &ics, false},
    {"ixit", &ixit, false},
    END,
};
const struct yschema dossier_schema = {
    .type = YS_MAP, .what = "a dossier", .fields = dossier_fields};

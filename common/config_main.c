/*
 * bookcast-config — checks and explains a bookcast configuration without starting anything.
 *
 * It builds the configuration exactly as every program does (cli_start: defaults < file <
 * environment < --set), so "bookcast-config --config my.json" refuses precisely what the
 * pipeline would refuse, with the same message and exit status 2. It also prints the effective
 * values with their origin, and generates the key table of docs/config.md from the schema.
 */
#include "cli.h"
#include "config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(config_type_t type)
{
    switch (type) {
    case CONFIG_BOOL:
        return "bool";
    case CONFIG_INT:
        return "int";
    case CONFIG_STRING:
        return "string";
    case CONFIG_ENDPOINT:
        return "endpoint";
    case CONFIG_HOSTPORT:
        return "host:port";
    case CONFIG_URL:
        return "url";
    case CONFIG_STRING_LIST:
        return "list";
    case CONFIG_SYMBOLS:
        return "symbols";
    }
    return "?";
}

/* Markdown table of every key; docs/config.md embeds this output verbatim. */
static void print_docs_table(void)
{
    size_t count;
    const config_key_t *keys = config_schema(&count);
    printf("| Key | Type | Default | Allowed | Environment | Meaning |\n");
    printf("|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < count; i++) {
        char env[256];
        char allowed[512] = "";
        if (keys[i].choices) {
            config_choices_text(keys[i].choices, allowed, sizeof allowed);
        } else if (keys[i].type == CONFIG_INT) {
            snprintf(allowed, sizeof allowed, "%lld..%lld", (long long)keys[i].min,
                     (long long)keys[i].max);
        }
        printf("| `%s` | %s | `%s` | %s | `%s` | %s |\n", keys[i].key, type_name(keys[i].type),
               keys[i].def, allowed, config_env_name(keys[i].key, env, sizeof env), keys[i].doc);
    }
}

static void print_explain(const config_t *cfg)
{
    size_t count;
    const config_key_t *keys = config_schema(&count);
    for (size_t i = 0; i < count; i++) {
        char *value = config_value_json(cfg, keys[i].key);
        printf("%s = %s  (%s)\n", keys[i].key, value ? value : "?",
               config_origin(cfg, keys[i].key));
        free(value);
    }
}

int main(int argc, char **argv)
{
    const char *print = NULL, *explain = NULL, *docs = NULL;
    const cli_option_t options[] = {
        {"print", NULL, "print the effective configuration as JSON", &print},
        {"explain", NULL, "print every key's value and where it came from", &explain},
        {"docs", NULL, "print the key table of docs/config.md", &docs},
        {0},
    };
    const cli_spec_t spec = {
        "bookcast-config",
        "Checks a bookcast configuration (file, environment, --set) and explains it; exits 2 "
        "when it is invalid.",
        options,
    };
    config_t *cfg = NULL;
    int rc = cli_start(&spec, argc, argv, &cfg);
    if (rc >= 0)
        return rc;

    if (docs) {
        print_docs_table();
    } else if (print) {
        char *json = config_to_json(cfg);
        if (!json) {
            fprintf(stderr, "bookcast-config: out of memory\n");
            config_destroy(&cfg);
            return 1;
        }
        printf("%s\n", json);
        free(json);
    } else if (explain) {
        print_explain(cfg);
    } else {
        const char *path = cli_config_path();
        printf("bookcast-config: configuration is valid (%s)\n",
               path ? path : "defaults only, no file");
    }
    config_destroy(&cfg);
    return 0;
}

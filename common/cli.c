/*
 * cli.c — the shared start of every bookcast program (see cli.h).
 *
 * Parsing is hand-written rather than getopt_long so that a program's own options, the common
 * ones and the help text come from one table, and so that "--set=key=value" and "--set key=value"
 * both work the same way on every program.
 */
#include "cli.h"

#include "log.h"
#include "version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_CONFIG_PATH "config/bookcast.json"
#define MAX_ASSIGNMENTS 256

static char config_path_used[4096];

const char *cli_config_path(void)
{
    return config_path_used[0] ? config_path_used : NULL;
}

static void print_help(const cli_spec_t *spec)
{
    printf("usage: %s [options]\n%s\n\noptions:\n", spec->program, spec->summary);
    for (const cli_option_t *o = spec->options; o && o->name; o++) {
        char left[96];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg_name ? " " : "",
                 o->arg_name ? o->arg_name : "");
        printf("  %-28s %s\n", left, o->help);
    }
    printf("  %-28s %s\n", "--config FILE",
           "configuration file (default: $BOOKCAST_CONFIG, else " DEFAULT_CONFIG_PATH
           " when present)");
    printf("  %-28s %s\n", "--set key.path=value",
           "override one key; repeatable; wins over the file and the environment");
    printf("  %-28s %s\n", "--help", "print this help and exit");
    printf("  %-28s %s\n", "--version", "print the version and exit");
    printf("\nEvery key can also be set as BOOKCAST_<KEY> in the environment, e.g.\n"
           "BOOKCAST_LOG_LEVEL=debug. Keys and defaults: docs/config.md, or bookcast-config "
           "--explain.\n");
}

/* Matches argv[*i] against "--name" or "--name=value"; takes the value from the next argument
   when needed. Returns 1 on a match (value set, or NULL for flags), 0 when not this option, -1
   when the value is missing (already reported). */
static int match_option(const char *program, const char *name, int takes_value, int argc,
                        char **argv, int *i, const char **value)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0)
        return 0;
    const char *rest = arg + 2 + n;
    if (*rest == '=' && takes_value) {
        *value = rest + 1;
        return 1;
    }
    if (*rest != '\0')
        return 0;
    if (!takes_value) {
        *value = "1";
        return 1;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: --%s needs a value\n", program, name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

/* The --set assignments of this run (pointers into argv, which lives as long as the process),
   kept for cli_reload. */
static const char *assignments[MAX_ASSIGNMENTS];
static size_t assignment_count;

/* defaults < file < environment < --set, into a new configuration. */
static config_t *build_config(const char *path, char *err, size_t err_len)
{
    config_t *c = config_new();
    if (!c) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    int rc = 0;
    if (path)
        rc = config_load_file(c, path, err, err_len);
    if (rc == 0)
        rc = config_apply_env(c, environ, err, err_len);
    for (size_t k = 0; rc == 0 && k < assignment_count; k++)
        rc = config_apply_assignment(c, assignments[k], err, err_len);
    if (rc != 0)
        config_destroy(&c);
    return c;
}

int cli_start(const cli_spec_t *spec, int argc, char **argv, config_t **cfg)
{
    const char *config_path = NULL;
    assignment_count = 0;
    *cfg = NULL;
    config_path_used[0] = '\0';

    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        int m;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(spec);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("%s %s\n", spec->program, BOOKCAST_VERSION);
            return 0;
        }
        if ((m = match_option(spec->program, "config", 1, argc, argv, &i, &value)) != 0) {
            if (m < 0)
                return CLI_EXIT_USAGE;
            config_path = value;
            continue;
        }
        if ((m = match_option(spec->program, "set", 1, argc, argv, &i, &value)) != 0) {
            if (m < 0)
                return CLI_EXIT_USAGE;
            if (assignment_count == MAX_ASSIGNMENTS) {
                fprintf(stderr, "%s: more than %d --set options\n", spec->program,
                        MAX_ASSIGNMENTS);
                return CLI_EXIT_USAGE;
            }
            assignments[assignment_count++] = value;
            continue;
        }
        int matched = 0;
        for (const cli_option_t *o = spec->options; o && o->name && !matched; o++) {
            m = match_option(spec->program, o->name, o->arg_name != NULL, argc, argv, &i, &value);
            if (m < 0)
                return CLI_EXIT_USAGE;
            if (m > 0) {
                *o->value = value;
                matched = 1;
            }
        }
        if (!matched) {
            fprintf(stderr, "%s: unknown option \"%s\" (see --help)\n", spec->program, argv[i]);
            return CLI_EXIT_USAGE;
        }
    }

    if (!config_path) {
        const char *env = getenv("BOOKCAST_CONFIG");
        if (env && *env)
            config_path = env;
        else if (access(DEFAULT_CONFIG_PATH, F_OK) == 0)
            config_path = DEFAULT_CONFIG_PATH;
    }

    char err[1024];
    config_t *c = build_config(config_path, err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s: config error: %s\n", spec->program, err);
        return CLI_EXIT_USAGE;
    }
    if (config_path)
        snprintf(config_path_used, sizeof config_path_used, "%s", config_path);
    *cfg = c;
    return -1;
}

config_t *cli_reload(char *err, size_t err_len)
{
    return build_config(config_path_used[0] ? config_path_used : NULL, err, err_len);
}

int cli_open_log(const char *program, const config_t *cfg)
{
    log_options_t opts;
    log_options_default(&opts);
    /* The schema only admits valid level names. */
    (void)log_level_parse(config_str(cfg, "log.level"), &opts.level);
    opts.file = config_str(cfg, "log.file");
    opts.warn_file = config_str(cfg, "log.warn_file");
    opts.max_bytes = (uint64_t)config_int(cfg, "log.max_bytes");
    opts.max_files = (unsigned)config_int(cfg, "log.max_files");
    opts.rate_limit_burst = (unsigned)config_int(cfg, "log.rate_limit_burst");
    opts.rate_limit_window_ms = (unsigned)config_int(cfg, "log.rate_limit_window_ms");
    return log_open(program, &opts);
}

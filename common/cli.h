/*
 * cli.h — how every bookcast program starts: its command line, its configuration, its log.
 *
 * Every program accepts --config FILE, --set key.path=value (repeatable), --help and --version,
 * plus options of its own. The configuration is built as defaults < file < environment < --set.
 * The file is --config, else $BOOKCAST_CONFIG, else ./config/bookcast.json when it exists, else
 * none (defaults only). Any error is printed with the file, key and problem, and the program
 * exits with status 2 before it has started anything.
 */
#ifndef BOOKCAST_CLI_H
#define BOOKCAST_CLI_H

#include "config.h"

#define CLI_EXIT_USAGE 2

typedef struct {
    const char *name;     /* "market" for --market */
    const char *arg_name; /* "spot|usdm|coinm"; NULL for a flag without argument */
    const char *help;     /* one line */
    const char **value;   /* receives the argument, or "1" for a flag; NULL when not given */
} cli_option_t;

typedef struct {
    const char *program;         /* "bookcast-collector" */
    const char *summary;         /* one line saying what the program does */
    const cli_option_t *options; /* the program's own options, ended by {0}; may be NULL */
} cli_spec_t;

/* Parses argv and builds the configuration. Returns -1 when the program should run, with *cfg
   set (the caller destroys it); otherwise the status to exit with: 0 after --help or --version,
   CLI_EXIT_USAGE after an error it has printed to stderr. */
int cli_start(const cli_spec_t *spec, int argc, char **argv, config_t **cfg);

/* Builds the configuration again from the same sources as cli_start (the same file, the
   environment as it is now, the same --set assignments), for a reload on SIGHUP. Returns it, or
   NULL with the reason in err: the caller keeps running on its old configuration. */
config_t *cli_reload(char *err, size_t err_len);

/* The config file cli_start used, or NULL when it ran on defaults only. */
const char *cli_config_path(void);

/* Opens the log for `program` from the log.* keys. Returns 0, or -1 when a log file could not be
   opened (already reported; logging goes on to stderr). */
int cli_open_log(const char *program, const config_t *cfg);

#endif

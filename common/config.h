/*
 * config.h — bookcast's one configuration, shared by every program.
 *
 * Every key lives in one schema (config_schema.c) with its type, default, allowed values and a
 * sentence of documentation; docs/config.md is generated from that same table. A value comes, in
 * increasing precedence, from the default, the JSON file, the environment
 * (BOOKCAST_<KEY_WITH_DOTS_AS_UNDERSCORES>, e.g. BOOKCAST_RECORDER_DB_PATH) and `--set key=value`.
 * Every program knows every key, so one file and one environment serve the whole pipeline.
 *
 * Errors name where the value came from (the file, the variable, the --set), the key and the
 * problem; programs print them and exit with status 2 before anything starts.
 */
#ifndef BOOKCAST_CONFIG_H
#define BOOKCAST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct config_t config_t;

typedef enum {
    CONFIG_BOOL,
    CONFIG_INT,         /* int64 within [min, max], or one of `choices` */
    CONFIG_STRING,      /* any string, or one of `choices` */
    CONFIG_ENDPOINT,    /* a ZeroMQ endpoint: tcp://host:port, ipc://path, inproc://name */
    CONFIG_HOSTPORT,    /* host:port, for listeners that are not ZeroMQ */
    CONFIG_URL,         /* wss://, ws://, https:// or http:// followed by a host */
    CONFIG_STRING_LIST, /* list of strings, each one of `choices` when set */
    CONFIG_SYMBOLS,     /* "ALL" or a list of exchange symbols, stored in upper case */
} config_type_t;

typedef struct {
    const char *key;     /* dotted path: "markets.spot.ws_url" */
    config_type_t type;
    const char *def;     /* the default, as JSON text: "true", "100", "\"info\"", "[\"1m\"]" */
    int64_t min, max;    /* CONFIG_INT range when choices is NULL */
    const char *choices; /* "|"-separated allowed values, or NULL */
    const char *doc;     /* one sentence for docs/config.md */
} config_key_t;

/* The schema: every key, in documentation order. */
const config_key_t *config_schema(size_t *count);

/* Returns the environment variable name of `key` in `buf`: BOOKCAST_ + upper case, '.' -> '_'. */
const char *config_env_name(const char *key, char *buf, size_t buf_len);

/* Writes "|"-separated `choices` as "a, b, c" into buf (for messages and documentation). */
void config_choices_text(const char *choices, char *buf, size_t len);

/* New configuration holding every default. Returns NULL only when out of memory. */
config_t *config_new(void);
void config_destroy(config_t **self_p);

/* Applies the JSON file at `path`. Returns 0, or -1 with a message in err naming the file, the key
   and the problem (unknown key, wrong type, out of range, invalid JSON with line and column). */
int config_load_file(config_t *self, const char *path, char *err, size_t err_len);

/* Applies every BOOKCAST_* variable of `envp` (NULL-terminated, as environ). BOOKCAST_CONFIG is
   the file's path, not a key. An unknown BOOKCAST_* name is an error: a typo must not pass. */
int config_apply_env(config_t *self, char *const *envp, char *err, size_t err_len);

/* Applies one "key.path=value" assignment (from --set). */
int config_apply_assignment(config_t *self, const char *assignment, char *err, size_t err_len);

/* Accessors. The key must be in the schema with the matching type: a wrong key is a programming
   error and aborts with a message. Returned strings belong to the configuration. */
bool config_bool(const config_t *self, const char *key);
int64_t config_int(const config_t *self, const char *key);
const char *config_str(const config_t *self, const char *key);
size_t config_list_size(const config_t *self, const char *key);
const char *config_list_item(const config_t *self, const char *key, size_t index);
/* CONFIG_SYMBOLS: true when the value is "ALL" (then the list is empty). */
bool config_symbols_all(const config_t *self, const char *key);

/* Where the key's value came from: "default", the file's path, "env BOOKCAST_…", "--set". */
const char *config_origin(const config_t *self, const char *key);

/* The value as JSON text (caller frees), and the whole effective configuration as nested JSON
   (caller frees). */
char *config_value_json(const config_t *self, const char *key);
char *config_to_json(const config_t *self);

#endif

/*
 * config.c — loading, validating and reading bookcast's configuration.
 *
 * Every value, whatever its source, goes through one path: it becomes a cJSON value (the file
 * gives JSON; the environment and --set give text that is parsed by the key's type), then
 * validate_value() checks it against the schema and returns a normalized copy (symbols in upper
 * case, URLs without a trailing slash). So a default, a file value and an override can never be
 * held to different rules, and the tests of one source cover the others.
 *
 * Integers travel through cJSON's double; values beyond 2^53 are refused rather than rounded.
 * The schema is small (tens of keys) and read at start-up, so lookups are linear: clarity beats
 * a hash table here.
 */
#include "config.h"
#include "errmsg.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_FILE_MAX_BYTES (16u << 20)
#define EXACT_INT_LIMIT 9007199254740992.0 /* 2^53: the largest exact integer in a double */
#define SYMBOL_MAX_LEN 32

typedef struct {
    const config_key_t *key;
    cJSON *value;
    char *origin;
} config_entry_t;

struct config_t {
    config_entry_t *entries;
    size_t count;
};

const char *config_env_name(const char *key, char *buf, size_t buf_len)
{
    size_t n = (size_t)snprintf(buf, buf_len, "BOOKCAST_");
    for (const char *p = key; *p && n + 1 < buf_len; p++)
        buf[n++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
    if (n < buf_len)
        buf[n] = '\0';
    return buf;
}

static config_entry_t *find_entry(const config_t *self, const char *key)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->entries[i].key->key, key) == 0)
            return &self->entries[i];
    return NULL;
}

static bool is_key_prefix(const config_t *self, const char *prefix)
{
    size_t len = strlen(prefix);
    for (size_t i = 0; i < self->count; i++) {
        const char *k = self->entries[i].key->key;
        if (strncmp(k, prefix, len) == 0 && k[len] == '.')
            return true;
    }
    return false;
}

/* Levenshtein distance, for "did you mean" on unknown keys. Keys are short. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 127 || lb > 127)
        return (size_t)-1;
    size_t row[128];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diag + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static void unknown_key_err(const config_t *self, const char *source, const char *key, char *err,
                            size_t err_len)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < self->count; i++) {
        size_t d = edit_distance(key, self->entries[i].key->key);
        if (d < best_d) {
            best_d = d;
            best = self->entries[i].key->key;
        }
    }
    if (best && best_d <= 3)
        errmsg_set(err, err_len, "%s: unknown key \"%s\" (did you mean \"%s\"?)", source, key,
                   best);
    else
        errmsg_set(err, err_len, "%s: unknown key \"%s\"", source, key);
}

static const char *json_type_name(const cJSON *v)
{
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsArray(v))
        return "a list";
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsNull(v))
        return "null";
    return "an invalid value";
}

static const char *type_expectation(config_type_t type)
{
    switch (type) {
    case CONFIG_BOOL:
        return "a boolean (true or false)";
    case CONFIG_INT:
        return "an integer";
    case CONFIG_STRING:
        return "a string";
    case CONFIG_ENDPOINT:
        return "a ZeroMQ endpoint (tcp://host:port, ipc://path or inproc://name)";
    case CONFIG_HOSTPORT:
        return "an address host:port";
    case CONFIG_URL:
        return "a URL (wss://, ws://, https:// or http://)";
    case CONFIG_STRING_LIST:
        return "a list of strings";
    case CONFIG_SYMBOLS:
        return "\"ALL\" or a list of symbols";
    }
    return "a value";
}

/* True when `value` is one of the "|"-separated `choices`. */
static bool is_choice(const char *choices, const char *value)
{
    size_t len = strlen(value);
    const char *p = choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, value, n) == 0)
            return true;
        if (!bar)
            break;
        p = bar + 1;
    }
    return false;
}

void config_choices_text(const char *choices, char *buf, size_t len)
{
    size_t n = 0;
    for (const char *p = choices; *p && n + 3 < len; p++) {
        if (*p == '|') {
            buf[n++] = ',';
            buf[n++] = ' ';
        } else {
            buf[n++] = *p;
        }
    }
    buf[n] = '\0';
}

static bool valid_port(const char *s)
{
    if (!*s || strlen(s) > 5)
        return false;
    long port = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return false;
        port = port * 10 + (*p - '0');
    }
    return port >= 1 && port <= 65535;
}

/* "host:port" or "[v6]:port"; a host of "*" is allowed (bind to every interface). */
static bool valid_hostport(const char *s)
{
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close == s + 1 || close[1] != ':')
            return false;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || colon == s)
            return false;
        for (const char *p = s; p < colon; p++)
            if (isspace((unsigned char)*p) || *p == '/' || *p == ':')
                return false;
    }
    return valid_port(colon + 1);
}

static bool valid_endpoint(const char *s)
{
    if (strncmp(s, "tcp://", 6) == 0)
        return valid_hostport(s + 6);
    if (strncmp(s, "ipc://", 6) == 0)
        return s[6] != '\0';
    if (strncmp(s, "inproc://", 9) == 0)
        return s[9] != '\0';
    return false;
}

static bool valid_url(const char *s)
{
    static const char *const schemes[] = {"wss://", "ws://", "https://", "http://"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i]);
        if (strncmp(s, schemes[i], n) == 0) {
            const char *host = s + n;
            if (!*host || *host == '/' || *host == ':')
                return false;
            for (const char *p = host; *p; p++)
                if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
                    return false;
            return true;
        }
    }
    return false;
}

static bool valid_symbol(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > SYMBOL_MAX_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

/* Checks `in` against `key` and returns a normalized copy, or NULL with the problem in `problem`
   (without the source and key, which the caller adds). */
static cJSON *validate_value(const config_key_t *key, const cJSON *in, char *problem, size_t len)
{
    char choices[512] = "";
    if (key->choices)
        config_choices_text(key->choices, choices, sizeof choices);

    switch (key->type) {
    case CONFIG_BOOL:
        if (!cJSON_IsBool(in))
            break;
        return cJSON_CreateBool(cJSON_IsTrue(in));

    case CONFIG_INT: {
        if (!cJSON_IsNumber(in))
            break;
        double d = in->valuedouble;
        if (d != d || d < -EXACT_INT_LIMIT || d > EXACT_INT_LIMIT || d != (double)(int64_t)d) {
            errmsg_set(problem, len, "expected an integer, got %g", d);
            return NULL;
        }
        int64_t v = (int64_t)d;
        if (key->choices) {
            char text[32];
            snprintf(text, sizeof text, "%lld", (long long)v);
            if (!is_choice(key->choices, text)) {
                errmsg_set(problem, len, "%lld is not one of %s", (long long)v, choices);
                return NULL;
            }
        } else if (v < key->min || v > key->max) {
            errmsg_set(problem, len, "%lld is out of range (%lld..%lld)", (long long)v,
                       (long long)key->min, (long long)key->max);
            return NULL;
        }
        return cJSON_CreateNumber((double)v);
    }

    case CONFIG_STRING:
    case CONFIG_ENDPOINT:
    case CONFIG_HOSTPORT:
    case CONFIG_URL: {
        if (!cJSON_IsString(in))
            break;
        const char *s = in->valuestring;
        if (key->type == CONFIG_STRING && key->choices && !is_choice(key->choices, s)) {
            errmsg_set(problem, len, "\"%s\" is not one of %s", s, choices);
            return NULL;
        }
        if ((key->type == CONFIG_ENDPOINT && !valid_endpoint(s)) ||
            (key->type == CONFIG_HOSTPORT && !valid_hostport(s)) ||
            (key->type == CONFIG_URL && !valid_url(s))) {
            errmsg_set(problem, len, "\"%s\" is not %s", s, type_expectation(key->type));
            return NULL;
        }
        if (key->type == CONFIG_URL) {
            char buf[1024];
            snprintf(buf, sizeof buf, "%s", s);
            size_t n = strlen(buf);
            while (n > 0 && buf[n - 1] == '/')
                buf[--n] = '\0';
            return cJSON_CreateString(buf);
        }
        return cJSON_CreateString(s);
    }

    case CONFIG_STRING_LIST:
    case CONFIG_SYMBOLS: {
        if (key->type == CONFIG_SYMBOLS && cJSON_IsString(in)) {
            if (strcasecmp(in->valuestring, "ALL") == 0)
                return cJSON_CreateString("ALL");
            errmsg_set(problem, len, "expected \"ALL\" or a list of symbols, got \"%s\"",
                       in->valuestring);
            return NULL;
        }
        if (!cJSON_IsArray(in))
            break;
        if (key->type == CONFIG_SYMBOLS && cJSON_GetArraySize(in) == 0) {
            errmsg_set(problem, len, "the list is empty (to turn a market off, set enabled=false)");
            return NULL;
        }
        cJSON *out = cJSON_CreateArray();
        if (!out)
            return NULL;
        const cJSON *item;
        int index = 0;
        cJSON_ArrayForEach(item, in)
        {
            if (!cJSON_IsString(item)) {
                errmsg_set(problem, len, "item %d: expected a string, got %s", index,
                           json_type_name(item));
                cJSON_Delete(out);
                return NULL;
            }
            char value[SYMBOL_MAX_LEN + 1];
            const char *s = item->valuestring;
            if (key->type == CONFIG_SYMBOLS) {
                if (!valid_symbol(s)) {
                    errmsg_set(problem, len,
                               "item %d: \"%s\" is not a symbol (1 to %d letters, digits or '_')",
                               index, s, SYMBOL_MAX_LEN);
                    cJSON_Delete(out);
                    return NULL;
                }
                size_t n = 0;
                for (; s[n]; n++)
                    value[n] = (char)toupper((unsigned char)s[n]);
                value[n] = '\0';
                s = value;
            } else if (key->choices && !is_choice(key->choices, s)) {
                errmsg_set(problem, len, "item %d: \"%s\" is not one of %s", index, s, choices);
                cJSON_Delete(out);
                return NULL;
            }
            const cJSON *seen;
            cJSON_ArrayForEach(seen, out)
            {
                if (strcmp(seen->valuestring, s) == 0) {
                    errmsg_set(problem, len, "item %d: \"%s\" is listed twice", index, s);
                    cJSON_Delete(out);
                    return NULL;
                }
            }
            cJSON_AddItemToArray(out, cJSON_CreateString(s));
            index++;
        }
        return out;
    }
    }
    errmsg_set(problem, len, "expected %s, got %s", type_expectation(key->type),
               json_type_name(in));
    return NULL;
}

static int set_value(config_entry_t *entry, const cJSON *in, const char *origin, const char *source,
                     char *err, size_t err_len)
{
    char problem[768];
    problem[0] = '\0';
    cJSON *value = validate_value(entry->key, in, problem, sizeof problem);
    if (!value) {
        errmsg_set(err, err_len, "%s: key \"%s\": %s", source, entry->key->key,
                   problem[0] ? problem : "out of memory");
        return -1;
    }
    char *origin_copy = strdup(origin);
    if (!origin_copy) {
        cJSON_Delete(value);
        errmsg_set(err, err_len, "%s: out of memory", source);
        return -1;
    }
    cJSON_Delete(entry->value);
    free(entry->origin);
    entry->value = value;
    entry->origin = origin_copy;
    return 0;
}

config_t *config_new(void)
{
    config_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    size_t count;
    const config_key_t *keys = config_schema(&count);
    self->entries = calloc(count, sizeof *self->entries);
    if (!self->entries) {
        free(self);
        return NULL;
    }
    self->count = count;
    for (size_t i = 0; i < count; i++) {
        self->entries[i].key = &keys[i];
        cJSON *def = cJSON_Parse(keys[i].def);
        char err[1024];
        int rc =
            def ? set_value(&self->entries[i], def, "default", "default", err, sizeof err) : -1;
        cJSON_Delete(def);
        if (rc != 0) {
            /* A default that fails its own schema is a bug in config_schema.c. */
            fprintf(stderr, "config: bad default for %s: %s\n", keys[i].key,
                    def ? err : "not JSON");
            config_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void config_destroy(config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    config_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        cJSON_Delete(self->entries[i].value);
        free(self->entries[i].origin);
    }
    free(self->entries);
    free(self);
    *self_p = NULL;
}

/* Applies every member of `obj`, whose dotted path is `prefix` ("" at the top). */
static int apply_object(config_t *self, const cJSON *obj, const char *prefix, const char *path,
                        char *err, size_t err_len)
{
    const cJSON *child;
    cJSON_ArrayForEach(child, obj)
    {
        for (const cJSON *other = obj->child; other != child; other = other->next) {
            if (strcmp(other->string, child->string) == 0) {
                errmsg_set(err, err_len, "%s: key \"%s%s%s\" appears twice", path, prefix,
                           *prefix ? "." : "", child->string);
                return -1;
            }
        }
        char key[512];
        int n = snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", child->string);
        if (n < 0 || (size_t)n >= sizeof key) {
            errmsg_set(err, err_len, "%s: key \"%.60s...\" is too long", path, key);
            return -1;
        }
        config_entry_t *entry = find_entry(self, key);
        if (entry) {
            if (set_value(entry, child, path, path, err, err_len) != 0)
                return -1;
        } else if (cJSON_IsObject(child) && is_key_prefix(self, key)) {
            if (apply_object(self, child, key, path, err, err_len) != 0)
                return -1;
        } else {
            unknown_key_err(self, path, key, err, err_len);
            return -1;
        }
    }
    return 0;
}

static void line_and_column(const char *text, const char *at, int *line, int *column)
{
    *line = 1;
    *column = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}

int config_load_file(config_t *self, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        errmsg_set(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(CONFIG_FILE_MAX_BYTES + 1);
    if (!text) {
        fclose(f);
        errmsg_set(err, err_len, "%s: out of memory", path);
        return -1;
    }
    size_t len = fread(text, 1, CONFIG_FILE_MAX_BYTES + 1, f);
    int read_failed = ferror(f);
    fclose(f);
    if (read_failed) {
        free(text);
        errmsg_set(err, err_len, "%s: read error", path);
        return -1;
    }
    if (len > CONFIG_FILE_MAX_BYTES) {
        free(text);
        errmsg_set(err, err_len, "%s: larger than %u bytes", path, CONFIG_FILE_MAX_BYTES);
        return -1;
    }
    text[len] = '\0';
    if (strlen(text) != len) {
        free(text);
        errmsg_set(err, err_len, "%s: contains a NUL byte", path);
        return -1;
    }

    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        const char *at = end ? end : cJSON_GetErrorPtr();
        int line = 0, column = 0;
        if (at && at >= text && at <= text + len)
            line_and_column(text, at, &line, &column);
        errmsg_set(err, err_len, "%s:%d:%d: invalid JSON", path, line, column);
        free(text);
        return -1;
    }
    free(text);
    int rc;
    if (!cJSON_IsObject(root)) {
        errmsg_set(err, err_len, "%s: the top level must be an object, got %s", path,
                   json_type_name(root));
        rc = -1;
    } else {
        rc = apply_object(self, root, "", path, err, err_len);
    }
    cJSON_Delete(root);
    return rc;
}

/* Turns override text (environment, --set) into the JSON value its key's type expects. */
static cJSON *text_to_json(const config_key_t *key, const char *text, char *problem, size_t len)
{
    switch (key->type) {
    case CONFIG_BOOL: {
        static const char *const yes[] = {"true", "1", "yes", "on"};
        static const char *const no[] = {"false", "0", "no", "off"};
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(text, yes[i]) == 0)
                return cJSON_CreateTrue();
            if (strcasecmp(text, no[i]) == 0)
                return cJSON_CreateFalse();
        }
        errmsg_set(problem, len, "expected a boolean (true or false), got \"%s\"", text);
        return NULL;
    }
    case CONFIG_INT: {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (!*text || *end || errno == ERANGE || isspace((unsigned char)*text) ||
            (double)v > EXACT_INT_LIMIT || (double)v < -EXACT_INT_LIMIT) {
            errmsg_set(problem, len, "expected an integer, got \"%s\"", text);
            return NULL;
        }
        return cJSON_CreateNumber((double)v);
    }
    case CONFIG_STRING:
    case CONFIG_ENDPOINT:
    case CONFIG_HOSTPORT:
    case CONFIG_URL:
        return cJSON_CreateString(text);
    case CONFIG_STRING_LIST:
    case CONFIG_SYMBOLS: {
        const char *p = text;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '[') {
            cJSON *v = cJSON_Parse(p);
            if (!v)
                errmsg_set(problem, len, "invalid JSON list \"%s\"", text);
            return v;
        }
        if (key->type == CONFIG_SYMBOLS && strcasecmp(p, "ALL") == 0)
            return cJSON_CreateString("ALL");
        /* Comma-separated: "btcusdt, ethusdt". */
        cJSON *arr = cJSON_CreateArray();
        while (arr && *p) {
            const char *comma = strchr(p, ',');
            const char *stop = comma ? comma : p + strlen(p);
            const char *b = p, *e = stop;
            while (b < e && isspace((unsigned char)*b))
                b++;
            while (e > b && isspace((unsigned char)e[-1]))
                e--;
            if (e == b) {
                errmsg_set(problem, len, "empty item in \"%s\"", text);
                cJSON_Delete(arr);
                return NULL;
            }
            char item[256];
            snprintf(item, sizeof item, "%.*s", (int)(e - b), b);
            cJSON_AddItemToArray(arr, cJSON_CreateString(item));
            p = comma ? comma + 1 : stop;
        }
        return arr;
    }
    }
    return NULL;
}

static int apply_text(config_t *self, const char *key, const char *text, const char *origin,
                      const char *source, char *err, size_t err_len)
{
    config_entry_t *entry = find_entry(self, key);
    if (!entry) {
        unknown_key_err(self, source, key, err, err_len);
        return -1;
    }
    char problem[768];
    problem[0] = '\0';
    cJSON *value = text_to_json(entry->key, text, problem, sizeof problem);
    if (!value) {
        errmsg_set(err, err_len, "%s: key \"%s\": %s", source, key,
                   problem[0] ? problem : "out of memory");
        return -1;
    }
    int rc = set_value(entry, value, origin, source, err, err_len);
    cJSON_Delete(value);
    return rc;
}

int config_apply_env(config_t *self, char *const *envp, char *err, size_t err_len)
{
    if (!envp)
        return 0;
    for (char *const *e = envp; *e; e++) {
        if (strncmp(*e, "BOOKCAST_", 9) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - *e), *e);
        if (strcmp(name, "BOOKCAST_CONFIG") == 0)
            continue;
        const config_entry_t *match = NULL;
        char env_name[256];
        for (size_t i = 0; i < self->count; i++) {
            config_env_name(self->entries[i].key->key, env_name, sizeof env_name);
            if (strcmp(env_name, name) == 0) {
                match = &self->entries[i];
                break;
            }
        }
        char source[300];
        snprintf(source, sizeof source, "environment %s", name);
        if (!match) {
            errmsg_set(err, err_len,
                       "%s: no such key (names are BOOKCAST_ + the key in upper case "
                       "with '_' for '.', e.g. BOOKCAST_RECORDER_DB_PATH)",
                       source);
            return -1;
        }
        char origin[300];
        snprintf(origin, sizeof origin, "env %s", name);
        if (apply_text(self, match->key->key, eq + 1, origin, source, err, err_len) != 0)
            return -1;
    }
    return 0;
}

int config_apply_assignment(config_t *self, const char *assignment, char *err, size_t err_len)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) {
        errmsg_set(err, err_len, "--set %s: expected key.path=value", assignment);
        return -1;
    }
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)(eq - assignment), assignment);
    char source[300];
    snprintf(source, sizeof source, "--set %s", key);
    return apply_text(self, key, eq + 1, "--set", source, err, err_len);
}

static const config_entry_t *must_find(const config_t *self, const char *key, config_type_t type,
                                       config_type_t alt)
{
    const config_entry_t *entry = find_entry(self, key);
    if (!entry) {
        fprintf(stderr, "config: no key \"%s\" in the schema\n", key);
        abort();
    }
    if (entry->key->type != type && entry->key->type != alt) {
        fprintf(stderr, "config: key \"%s\" read with the wrong type\n", key);
        abort();
    }
    return entry;
}

bool config_bool(const config_t *self, const char *key)
{
    return cJSON_IsTrue(must_find(self, key, CONFIG_BOOL, CONFIG_BOOL)->value);
}

int64_t config_int(const config_t *self, const char *key)
{
    return (int64_t)must_find(self, key, CONFIG_INT, CONFIG_INT)->value->valuedouble;
}

const char *config_str(const config_t *self, const char *key)
{
    const config_entry_t *entry = find_entry(self, key);
    if (!entry || !cJSON_IsString(entry->value) || entry->key->type == CONFIG_SYMBOLS) {
        fprintf(stderr, "config: key \"%s\" is not a string key\n", key);
        abort();
    }
    return entry->value->valuestring;
}

size_t config_list_size(const config_t *self, const char *key)
{
    const config_entry_t *e = must_find(self, key, CONFIG_STRING_LIST, CONFIG_SYMBOLS);
    return cJSON_IsArray(e->value) ? (size_t)cJSON_GetArraySize(e->value) : 0;
}

const char *config_list_item(const config_t *self, const char *key, size_t index)
{
    const config_entry_t *e = must_find(self, key, CONFIG_STRING_LIST, CONFIG_SYMBOLS);
    if (!cJSON_IsArray(e->value) || index >= (size_t)cJSON_GetArraySize(e->value))
        return NULL;
    return cJSON_GetArrayItem(e->value, (int)index)->valuestring;
}

bool config_symbols_all(const config_t *self, const char *key)
{
    return cJSON_IsString(must_find(self, key, CONFIG_SYMBOLS, CONFIG_SYMBOLS)->value);
}

const char *config_origin(const config_t *self, const char *key)
{
    const config_entry_t *entry = find_entry(self, key);
    return entry ? entry->origin : NULL;
}

char *config_value_json(const config_t *self, const char *key)
{
    const config_entry_t *entry = find_entry(self, key);
    return entry ? cJSON_PrintUnformatted(entry->value) : NULL;
}

char *config_to_json(const config_t *self)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    for (size_t i = 0; i < self->count; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s", self->entries[i].key->key);
        cJSON *node = root;
        char *segment = path;
        char *dot;
        while ((dot = strchr(segment, '.')) != NULL) {
            *dot = '\0';
            cJSON *next = cJSON_GetObjectItemCaseSensitive(node, segment);
            if (!next)
                next = cJSON_AddObjectToObject(node, segment);
            node = next;
            segment = dot + 1;
        }
        cJSON_AddItemToObject(node, segment, cJSON_Duplicate(self->entries[i].value, 1));
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

/*
 * test_bookbuilder_soak.c — five minutes of combined faults on all three markets at once, with
 * every book checked against the sim's truth every ~2 s.
 *
 * The pipeline (pipeline.h) runs the real sim, collectors and bookbuilder; the sim fires the
 * fault plan below on its own clock (--faults) and the collectors rotate their connections every
 * 45 s, make-before-break, so the bookbuilder also sees the overlap's duplicate frames. What must
 * hold throughout:
 *   - every checkpoint of a synced book equals the truth at its update id
 *     (pipeline_check_book: every level held is exact, none missing in the range it can know);
 *   - every topic's seq runs from 1 without a gap (the bus reader keeps up: no high-water mark);
 *   - no trade or aggregate trade id is published twice on any trade topic;
 *   - on the markets whose plan has no fault that can lose a frame (USD-M and COIN-M: depth
 *     faults of single symbols, snapshot faults, and on USD-M injected junk frames, which add a
 *     frame and take none away), trade ids and aggregate trade ids are contiguous, and the
 *     aggregates cover contiguous trade ids;
 *   - each fault that breaks a chain resyncs the book it hit with the reason it implies (gap,
 *     break_pu, stall: "gap"; drop: "disconnect"), snapshot faults show up as "snapshot_stale"
 *     and "snapshot_failed", and a duplicate or reordered event of a synced book resyncs
 *     nothing; no book leaves synced for any other reason, and none stays out for long;
 *   - every book is synced at the end and equals the truth, and the processes exit 0 on SIGTERM.
 * Fault firings are read back from the sim's log (its wall-clock stamps), book states from the
 * status topics (their pub_ns), so a fault and its effect are matched on one clock.
 *
 * BOOKCAST_SOAK_S shortens the run for local use (ctest always runs the full length); the plan
 * fires every fault kind within the first two minutes. With KEEP_TEST_DIRS set, the sim's truth
 * file and every data-bus message are kept too, for a diagnosis.
 */
#include "pipeline.h"

#include "now.h"

#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define SOAK_DEFAULT_S 300
#define CHECK_INTERVAL_MS 2000
#define ROTATE_AFTER_S "45"
#define FIRST_SYNC_TIMEOUT_MS 20000
#define FINAL_SYNC_TIMEOUT_MS 30000
#define RESYNC_MAX_MS 30000          /* longest a book may stay out of sync */
#define BREAK_WINDOW_NS 3000000000LL /* a chain-breaking fault shows within this */
#define QUIET_NS 3000000000LL        /* no other fault on the book this close to a firing */
#define DETAILS_KEPT 12

/* ---- the plan ----------------------------------------------------------------------------- */

typedef enum {
    EXPECT_NOTHING, /* the book must not resync (duplicate, reorder) */
    EXPECT_GAP,     /* the book resyncs with reason gap */
    EXPECT_DISCONNECT,
    EXPECT_LATER, /* snapshot faults: they act on the market's next depth requests */
    EXPECT_JUNK,  /* an injected or cut frame: counted as bad input */
} expect_t;

typedef struct {
    const char *name;
    market_t market;
    const char *symbol; /* NULL: every symbol (or a connection fault) */
    const char *args;   /* further arguments, "" for none */
    int after_s, every_s;
    expect_t expect;
    bool lossy; /* it can lose frames of every stream of its market (or the symbol's trades) */
} planned_t;

/* Spot takes the connection faults (drop, a frame cut in half) and a stall, so its trades are
   only checked for duplicates; USD-M and COIN-M take the symbol depth faults and snapshot faults
   and keep every trade. Periods are picked so that most firings of a kind meet no other fault on
   the same book (the checks skip those that do). */
static const planned_t PLAN[] = {
    {"gap", MARKET_SPOT, "BTCUSDT", "", 8, 45, EXPECT_GAP, false},
    {"stall", MARKET_SPOT, "ETHUSDT", "&ms=3000", 50, 80, EXPECT_GAP, true},
    {"duplicate", MARKET_SPOT, "BNBUSDT", "&count=3", 14, 40, EXPECT_NOTHING, false},
    {"reorder", MARKET_SPOT, "BNBUSDT", "", 34, 40, EXPECT_NOTHING, false},
    {"drop", MARKET_SPOT, NULL, "", 40, 90, EXPECT_DISCONNECT, true},
    {"truncated", MARKET_SPOT, NULL, "", 25, 70, EXPECT_JUNK, true},
    {"malformed", MARKET_SPOT, NULL, "", 12, 50, EXPECT_JUNK, false},
    {"wrong_types", MARKET_SPOT, NULL, "", 17, 50, EXPECT_JUNK, false},
    {"snapshot_stale", MARKET_SPOT, NULL, "", 62, 90, EXPECT_LATER, false},
    {"snapshot_5xx", MARKET_SPOT, NULL, "", 75, 100, EXPECT_LATER, false},
    {"snapshot_slow", MARKET_SPOT, NULL, "&ms=3000", 105, 100, EXPECT_LATER, false},
    {"break_pu", MARKET_USDM, "BTCUSDT", "", 10, 45, EXPECT_GAP, false},
    {"gap", MARKET_USDM, "ETHUSDT", "&count=2", 20, 60, EXPECT_GAP, false},
    {"duplicate", MARKET_USDM, "BTCUSDT_251226", "&count=3", 15, 35, EXPECT_NOTHING, false},
    {"reorder", MARKET_USDM, "BTCUSDT_251226", "", 32, 35, EXPECT_NOTHING, false},
    {"snapshot_429", MARKET_USDM, NULL, "", 48, 100, EXPECT_LATER, false},
    {"snapshot_slow", MARKET_USDM, NULL, "&ms=3000", 85, 100, EXPECT_LATER, false},
    {"malformed", MARKET_USDM, NULL, "", 27, 60, EXPECT_JUNK, false},
    {"wrong_types", MARKET_USDM, NULL, "", 37, 60, EXPECT_JUNK, false},
    {"gap", MARKET_COINM, "BTCUSD_PERP", "", 16, 50, EXPECT_GAP, false},
    {"break_pu", MARKET_COINM, "BTCUSD_251226", "", 28, 55, EXPECT_GAP, false},
    {"duplicate", MARKET_COINM, "ETHUSD_PERP", "&count=3", 22, 40, EXPECT_NOTHING, false},
    {"reorder", MARKET_COINM, "ETHUSD_PERP", "", 42, 40, EXPECT_NOTHING, false},
    {"snapshot_stale", MARKET_COINM, NULL, "", 35, 80, EXPECT_LATER, false},
    {"snapshot_5xx", MARKET_COINM, NULL, "", 58, 90, EXPECT_LATER, false},
};
#define PLAN_COUNT (sizeof PLAN / sizeof PLAN[0])

static const planned_t *plan_find(const char *name, market_t market, const char *symbol)
{
    for (size_t i = 0; i < PLAN_COUNT; i++)
        if (strcmp(PLAN[i].name, name) == 0 && PLAN[i].market == market &&
            strcmp(PLAN[i].symbol ? PLAN[i].symbol : "", symbol) == 0)
            return &PLAN[i];
    return NULL;
}

/* True when the market's trades cannot lose a frame under the plan. */
static bool market_lossless(market_t m)
{
    for (size_t i = 0; i < PLAN_COUNT; i++)
        if (PLAN[i].market == m && PLAN[i].lossy)
            return false;
    return true;
}

/* ---- trades, from the bus reader ---------------------------------------------------------- */

typedef struct {
    uint64_t id, first, last;
} trade_id_t;

typedef struct {
    trade_id_t *v;
    size_t n, cap;
} trade_ids_t;

typedef struct {
    pipeline_t *p;
    pthread_mutex_t lock;
    trade_ids_t trades[PIPELINE_BOOKS], aggs[PIPELINE_BOOKS];
    size_t trade_errors;
    char trade_error[300];
    FILE *record; /* with KEEP_TEST_DIRS: every data message, "<mono_ms> <topic> <json>" */
} soak_t;

static int book_of(market_t market, const char *symbol)
{
    for (size_t i = 0; i < PIPELINE_SYMBOLS; i++)
        if (strcmp(pipeline_symbol(market, i), symbol) == 0)
            return (int)((market - 1) * PIPELINE_SYMBOLS + i);
    return -1;
}

static bool json_u64(const cJSON *obj, const char *key, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0)
        return false;
    *out = (uint64_t)v->valuedouble;
    return true;
}

static void push_id(trade_ids_t *ids, trade_id_t id)
{
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 1024;
        trade_id_t *grown = realloc(ids->v, cap * sizeof *grown);
        if (!grown)
            return;
        ids->v = grown;
        ids->cap = cap;
    }
    ids->v[ids->n++] = id;
}

/* On the bus reader's thread: every trade message's ids. */
static void on_message(void *arg, const pipeline_msg_t *msg)
{
    soak_t *s = arg;
    if (s->record)
        fprintf(s->record, "%lld %s %s\n", (long long)msg->mono_ms, msg->topic, msg->body);
    if (strcmp(msg->channel, "trade") != 0)
        return;
    int b = book_of(msg->market, msg->symbol);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg->json, "type");
    trade_id_t id = {0, 0, 0};
    bool agg = cJSON_IsString(type) && strcmp(type->valuestring, "agg_trade") == 0;
    bool ok = b >= 0 && cJSON_IsString(type) && json_u64(msg->json, "id", &id.id) &&
              (agg ? json_u64(msg->json, "first_trade_id", &id.first) &&
                         json_u64(msg->json, "last_trade_id", &id.last)
                   : strcmp(type->valuestring, "trade") == 0);
    pthread_mutex_lock(&s->lock);
    if (!ok) {
        if (s->trade_errors++ == 0)
            snprintf(s->trade_error, sizeof s->trade_error, "%s: unreadable trade %.200s",
                     msg->topic, msg->body);
    } else {
        push_id(agg ? &s->aggs[b] : &s->trades[b], id);
    }
    pthread_mutex_unlock(&s->lock);
}

static int by_id(const void *a, const void *b)
{
    const trade_id_t *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

typedef struct {
    size_t count, duplicates, missing, agg_breaks;
    char first_problem[200];
} trade_report_t;

/* Sorts the ids and counts what is wrong: duplicates always; missing ids and, for aggregates,
   trade ranges that do not follow on, over [lowest, highest]. */
static void check_ids(trade_ids_t *ids, bool agg, trade_report_t *r)
{
    memset(r, 0, sizeof *r);
    qsort(ids->v, ids->n, sizeof *ids->v, by_id);
    r->count = ids->n;
    for (size_t i = 1; i < ids->n; i++) {
        const trade_id_t *prev = &ids->v[i - 1], *cur = &ids->v[i];
        if (cur->id == prev->id) {
            if (!r->duplicates++ && !r->first_problem[0])
                snprintf(r->first_problem, sizeof r->first_problem, "id %" PRIu64 " twice",
                         cur->id);
            continue;
        }
        if (cur->id != prev->id + 1) {
            if (!r->missing && !r->first_problem[0])
                snprintf(r->first_problem, sizeof r->first_problem,
                         "ids %" PRIu64 " … %" PRIu64 " missing", prev->id + 1, cur->id - 1);
            r->missing += cur->id - prev->id - 1;
        } else if (agg && cur->first != prev->last + 1) {
            if (!r->agg_breaks && !r->first_problem[0])
                snprintf(r->first_problem, sizeof r->first_problem,
                         "agg %" PRIu64 " covers trades from %" PRIu64 ", the one before it up "
                         "to %" PRIu64,
                         cur->id, cur->first, prev->last);
            r->agg_breaks++;
        }
    }
}

/* ---- fault firings, from the sim's log ---------------------------------------------------- */

typedef struct {
    int64_t ns; /* wall clock */
    char name[32];
    market_t market;
    char symbol[40]; /* "" when not a symbol fault */
    int affected;
} firing_t;

static int64_t parse_stamp(const char *line)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int usec = 0;
    if (sscanf(line, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &usec) != 7)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000000000LL + (int64_t)usec * 1000;
}

/* Every "sim: fault <name> on <market>[ symbol <S>]: <n> affected" line. */
static size_t read_firings(const simproc_t *sim, firing_t **out)
{
    char path[300];
    snprintf(path, sizeof path, "%s/sim.log", simproc_dir(sim));
    FILE *f = fopen(path, "r");
    *out = NULL;
    if (!f)
        return 0;
    size_t n = 0, cap = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        const char *at = strstr(line, "sim: fault ");
        if (!at)
            continue;
        firing_t fr;
        memset(&fr, 0, sizeof fr);
        char market[32] = "";
        at += strlen("sim: fault ");
        if (sscanf(at, "%31s on %31[a-z]", fr.name, market) != 2 ||
            market_parse(market, &fr.market) != 0)
            continue;
        const char *sym = strstr(at, " symbol ");
        if (sym)
            sscanf(sym + 8, "%39[A-Z0-9_]", fr.symbol);
        const char *colon = strrchr(at, ':');
        if (colon)
            fr.affected = atoi(colon + 1);
        fr.ns = parse_stamp(line);
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            firing_t *grown = realloc(*out, cap * sizeof *grown);
            if (!grown)
                break;
            *out = grown;
        }
        (*out)[n++] = fr;
    }
    fclose(f);
    return n;
}

/* A depth request the sim answered with a snapshot fault: "<market> <peer>: fault
   snapshot_<kind>[: depth <SYMBOL> …]". */
typedef struct {
    int64_t ns;
    char kind[32]; /* "snapshot_stale", … */
    market_t market;
    char symbol[40]; /* "" when the line does not name it (snapshot_429) */
} serving_t;

static size_t read_servings(const simproc_t *sim, serving_t **out)
{
    char path[300];
    snprintf(path, sizeof path, "%s/sim.log", simproc_dir(sim));
    FILE *f = fopen(path, "r");
    *out = NULL;
    if (!f)
        return 0;
    size_t n = 0, cap = 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *at = strstr(line, ": fault snapshot_");
        if (!at)
            continue;
        serving_t sv;
        memset(&sv, 0, sizeof sv);
        if (sscanf(at, ": fault %31[a-z_0-9]", sv.kind) != 1)
            continue;
        const char *depth = strstr(at + 2, ": depth ");
        if (depth)
            sscanf(depth + 8, "%39[A-Z0-9_]", sv.symbol);
        /* The market is the word before the peer, which is the word before the colon. */
        *at = '\0';
        char *peer = strrchr(line, ' ');
        if (!peer)
            continue;
        *peer = '\0';
        char *market = strrchr(line, ' ');
        if (!market || market_parse(market + 1, &sv.market) != 0)
            continue;
        sv.ns = parse_stamp(line);
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            serving_t *grown = realloc(*out, cap * sizeof *grown);
            if (!grown)
                break;
            *out = grown;
        }
        (*out)[n++] = sv;
    }
    fclose(f);
    return n;
}

/* ---- book states, from the status topics -------------------------------------------------- */

typedef struct {
    pipeline_status_t *v;
    size_t n;
} statuses_t;

static void read_statuses(pipeline_t *p, statuses_t *st)
{
    st->n = pipeline_status_count(p);
    st->v = calloc(st->n ? st->n : 1, sizeof *st->v);
    assert_non_null(st->v);
    for (size_t i = 0; i < st->n; i++)
        assert_true(pipeline_status_at(p, i, &st->v[i]));
}

static bool same_book(const pipeline_status_t *s, market_t m, const char *symbol)
{
    return s->market == m && strcmp(s->symbol, symbol) == 0;
}

/* The book's state at wall time ns: its last status published by then. */
static const char *state_at(const statuses_t *st, market_t m, const char *symbol, int64_t ns)
{
    const char *state = "syncing";
    for (size_t i = 0; i < st->n && st->v[i].pub_ns <= ns; i++)
        if (same_book(&st->v[i], m, symbol))
            state = st->v[i].state;
    return state;
}

/* The first status of the book in (from, to] that is not synced, or NULL. */
static const pipeline_status_t *first_break(const statuses_t *st, market_t m, const char *symbol,
                                            int64_t from, int64_t to)
{
    for (size_t i = 0; i < st->n; i++) {
        const pipeline_status_t *s = &st->v[i];
        if (s->pub_ns > from && s->pub_ns <= to && same_book(s, m, symbol) &&
            strcmp(s->state, "synced") != 0)
            return s;
    }
    return NULL;
}

/* True when a firing other than `self` that can break the book's chain comes within `margin` of
   time `ns`: depth faults of the symbol or of every symbol, and connection faults that lose
   frames, of its market. */
static bool other_break_near(const firing_t *f, size_t n, const firing_t *self, market_t m,
                             const char *symbol, int64_t ns, int64_t before, int64_t after)
{
    static const char *const breaking[] = {"gap",       "break_pu",       "stall",     "drop",
                                           "truncated", "rotation_storm", "duplicate", "reorder"};
    for (size_t i = 0; i < n; i++) {
        if (&f[i] == self || f[i].market != m)
            continue;
        if (f[i].symbol[0] && strcmp(f[i].symbol, symbol) != 0)
            continue;
        bool breaks = false;
        for (size_t k = 0; k < sizeof breaking / sizeof breaking[0]; k++)
            breaks |= strcmp(f[i].name, breaking[k]) == 0;
        if (breaks && f[i].ns >= ns - before && f[i].ns <= ns + after)
            return true;
    }
    return false;
}

/* ---- the soak ----------------------------------------------------------------------------- */

typedef struct {
    size_t compared, not_synced, levels_held, levels_covered, mismatches;
} market_checks_t;

static void detail(char (*kept)[900], size_t *count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void detail(char (*kept)[900], size_t *count, const char *fmt, ...)
{
    if (*count < DETAILS_KEPT) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(kept[*count], 900, fmt, ap);
        va_end(ap);
        fprintf(stderr, "PROBLEM: %s\n", kept[*count]);
    }
    (*count)++;
}

static int soak_seconds(void)
{
    const char *env = getenv("BOOKCAST_SOAK_S");
    int s = env && *env ? atoi(env) : SOAK_DEFAULT_S;
    /* Every bookcast program refuses a BOOKCAST_* variable that names no key, and the sim
       inherits this environment. */
    unsetenv("BOOKCAST_SOAK_S");
    return s < 30 ? 30 : s;
}

static void check_round(soak_t *s, market_checks_t checks[PIPELINE_MARKETS], char (*problems)[900],
                        size_t *problem_count)
{
    for (market_t m = MARKET_SPOT; m <= MARKET_COINM; m++)
        for (size_t i = 0; i < PIPELINE_SYMBOLS; i++) {
            pipeline_check_t c;
            market_checks_t *mc = &checks[m - 1];
            if (pipeline_check_book(s->p, m, pipeline_symbol(m, i), &c) != 0) {
                detail(problems, problem_count, "check not made: %s", c.detail);
                continue;
            }
            if (!c.synced) {
                mc->not_synced++;
                continue;
            }
            mc->compared++;
            mc->levels_held += c.held[0] + c.held[1];
            mc->levels_covered += c.covered[0] + c.covered[1];
            if (!c.equal) {
                mc->mismatches++;
                detail(problems, problem_count, "mismatch: %s", c.detail);
            }
        }
}

static void soak_under_combined_faults_every_book_equals_the_truth(void **state)
{
    soak_t *s = *state;
    int seconds = soak_seconds();

    char faults[4096] = "";
    for (size_t i = 0; i < PLAN_COUNT; i++) {
        const planned_t *f = &PLAN[i];
        size_t used = strlen(faults);
        snprintf(faults + used, sizeof faults - used,
                 "%s%s:market=%s%s%s%s&after_ms=%d&every_ms=%d", i ? ";" : "", f->name,
                 market_name(f->market), f->symbol ? "&symbol=" : "", f->symbol ? f->symbol : "",
                 f->args, f->after_s * 1000, f->every_s * 1000);
    }
    fprintf(stderr, "soak: %d s, faults %s\n", seconds, faults);
    /* Kept runs also get what a diagnosis needs: the sim's truth file (every update of every
       followed symbol) and everything the data bus carried. */
    char keep_dir[64] = "", truth_path[128] = "";
    const char *sim_args[5] = {"--faults", faults, NULL, NULL, NULL};
    if (getenv("KEEP_TEST_DIRS")) {
        snprintf(keep_dir, sizeof keep_dir, "/tmp/bookcast-soak.XXXXXX");
        assert_non_null(mkdtemp(keep_dir));
        snprintf(truth_path, sizeof truth_path, "%s/truth.jsonl", keep_dir);
        sim_args[2] = "--truth";
        sim_args[3] = truth_path;
        char bus_path[128];
        snprintf(bus_path, sizeof bus_path, "%s/bus.log", keep_dir);
        s->record = fopen(bus_path, "w");
        fprintf(stderr, "soak: the truth and the bus are recorded in %s\n", keep_dir);
    }
    const char *collector_sets[] = {"collector.rotate_after_s=" ROTATE_AFTER_S, NULL};
    pipeline_opts_t opts = {
        .sim_args = sim_args,
        .collector_sets = collector_sets,
        .on_message = on_message,
        .arg = s,
    };
    int64_t t0 = now_monotonic_ms();
    s->p = pipeline_start(&opts);
    assert_non_null(s->p);
    /* Checkpoints start once every book exists and is synced (a book exists from its first
       diff event on). */
    if (!pipeline_wait_all_synced(s->p, FIRST_SYNC_TIMEOUT_MS))
        fail_msg("not every book synced within %d ms of the start", FIRST_SYNC_TIMEOUT_MS);

    market_checks_t checks[PIPELINE_MARKETS];
    memset(checks, 0, sizeof checks);
    char problems[DETAILS_KEPT][900];
    size_t problem_count = 0;
    int64_t end = t0 + (int64_t)seconds * 1000;
    size_t rounds = 0;
    int64_t round_ms_max = 0;
    while (now_monotonic_ms() < end) {
        int64_t round_start = now_monotonic_ms();
        if (!pipeline_bookbuilder_alive(s->p))
            fail_msg("the bookbuilder died after %lld s", (long long)(round_start - t0) / 1000);
        check_round(s, checks, problems, &problem_count);
        rounds++;
        int64_t took = now_monotonic_ms() - round_start;
        if (took > round_ms_max)
            round_ms_max = took;
        int64_t next = round_start + CHECK_INTERVAL_MS;
        while (now_monotonic_ms() < next && now_monotonic_ms() < end) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    fprintf(stderr, "soak: %zu checkpoint rounds, the longest took %lld ms\n", rounds,
            (long long)round_ms_max);

    /* The end: every book synced again, and right. */
    bool all_synced = pipeline_wait_all_synced(s->p, FINAL_SYNC_TIMEOUT_MS);
    if (!all_synced)
        detail(problems, &problem_count, "not every book synced within %d ms after the run",
               FINAL_SYNC_TIMEOUT_MS);
    market_checks_t final_checks[PIPELINE_MARKETS];
    memset(final_checks, 0, sizeof final_checks);
    check_round(s, final_checks, problems, &problem_count);
    for (int m = 0; m < PIPELINE_MARKETS; m++) {
        checks[m].compared += final_checks[m].compared;
        checks[m].mismatches += final_checks[m].mismatches;
        checks[m].levels_held += final_checks[m].levels_held;
        checks[m].levels_covered += final_checks[m].levels_covered;
        if (final_checks[m].not_synced)
            detail(problems, &problem_count, "%zu %s books not synced at the final check",
                   final_checks[m].not_synced, market_name((market_t)(m + 1)));
    }
    cJSON *hb = pipeline_heartbeat(s->p, PIPELINE_BOOKBUILDER_STATUS);
    cJSON *collector_hb[PIPELINE_MARKETS];
    for (market_t m = MARKET_SPOT; m <= MARKET_COINM; m++) {
        char topic[64];
        snprintf(topic, sizeof topic, "status.collector.%s", market_name(m));
        collector_hb[m - 1] = pipeline_heartbeat(s->p, topic);
    }
    statuses_t st;
    read_statuses(s->p, &st);
    firing_t *firings = NULL;
    size_t firing_count = read_firings(pipeline_sim(s->p), &firings);
    serving_t *servings = NULL;
    size_t serving_count = read_servings(pipeline_sim(s->p), &servings);

    /* Stop: the collectors, then the bookbuilder, each with SIGTERM, each exiting 0. */
    int collectors_unclean = pipeline_stop_collectors(s->p);
    int bookbuilder_status = pipeline_stop_bookbuilder(s->p);
    int64_t run_ms = now_monotonic_ms() - t0;

    /* ---- checkpoints ---- */
    fprintf(stderr, "\n==== soak figures (%d s of faults, %lld s in all) ====\n", seconds,
            (long long)run_ms / 1000);
    for (int m = 0; m < PIPELINE_MARKETS; m++)
        fprintf(stderr,
                "checkpoints %-5s: %zu compared with the truth (%zu levels held, %zu truth "
                "levels compared one by one), %zu while not synced, %zu mismatches\n",
                market_name((market_t)(m + 1)), checks[m].compared, checks[m].levels_held,
                checks[m].levels_covered, checks[m].not_synced, checks[m].mismatches);

    /* ---- resyncs: by the reason they left synced with, reasons seen, time out of sync ---- */
    static const char *const reasons[] = {
        "start",           "gap",         "disconnect", "overflow", "crossed", "snapshot_stale",
        "snapshot_failed", "buffer_full", "bad_data",   "no_memory"};
    enum { REASONS = sizeof reasons / sizeof reasons[0] };
    size_t left[PIPELINE_MARKETS][REASONS], seen[PIPELINE_MARKETS][REASONS];
    int64_t longest_ms = 0;
    char longest_book[80] = "";
    memset(left, 0, sizeof left);
    memset(seen, 0, sizeof seen);
    for (market_t m = MARKET_SPOT; m <= MARKET_COINM; m++)
        for (size_t i = 0; i < PIPELINE_SYMBOLS; i++) {
            const char *symbol = pipeline_symbol(m, i);
            bool synced = false;
            int64_t left_ns = 0;
            for (size_t k = 0; k < st.n; k++) {
                const pipeline_status_t *x = &st.v[k];
                if (!same_book(x, m, symbol))
                    continue;
                size_t r = 0;
                while (r < REASONS && strcmp(reasons[r], x->reason) != 0)
                    r++;
                bool now_synced = strcmp(x->state, "synced") == 0;
                if (!now_synced && r < REASONS) {
                    seen[m - 1][r]++;
                    if (synced)
                        left[m - 1][r]++;
                }
                if (synced && !now_synced)
                    left_ns = x->pub_ns;
                if (!synced && now_synced && left_ns) {
                    int64_t out_ms = (x->pub_ns - left_ns) / 1000000;
                    if (out_ms > longest_ms) {
                        longest_ms = out_ms;
                        snprintf(longest_book, sizeof longest_book, "%s %s (%s)", market_name(m),
                                 symbol, x->reason);
                    }
                }
                synced = now_synced;
            }
        }
    for (int m = 0; m < PIPELINE_MARKETS; m++) {
        fprintf(stderr, "resyncs %-5s:", market_name((market_t)(m + 1)));
        for (size_t r = 1; r < REASONS; r++)
            if (left[m][r] || seen[m][r])
                fprintf(stderr, " %s %zu (seen %zu)", reasons[r], left[m][r], seen[m][r]);
        fprintf(stderr, "\n");
    }
    fprintf(stderr, "longest time out of sync: %lld ms, %s\n", (long long)longest_ms, longest_book);
    long loss_highest = -1;
    size_t losses = pipeline_sync_losses(s->p, &loss_highest);
    fprintf(stderr,
            "book sides that dropped levels while a sync applied its buffered events on a full "
            "side: %zu (the highest at truth level %ld)\n",
            losses, loss_highest);
    if (longest_ms > RESYNC_MAX_MS)
        detail(problems, &problem_count, "a book was out of sync for %lld ms: %s",
               (long long)longest_ms, longest_book);
    for (int m = 0; m < PIPELINE_MARKETS; m++)
        for (size_t r = 0; r < REASONS; r++) {
            bool expected = strcmp(reasons[r], "gap") == 0 ||
                            strcmp(reasons[r], "snapshot_stale") == 0 ||
                            strcmp(reasons[r], "snapshot_failed") == 0 ||
                            (strcmp(reasons[r], "disconnect") == 0 && m == MARKET_SPOT - 1);
            if (left[m][r] && !expected)
                detail(problems, &problem_count, "%zu %s books left synced for %s", left[m][r],
                       market_name((market_t)(m + 1)), reasons[r]);
        }

    /* ---- each fault kind against what it must do ---- */
    size_t matched[PLAN_COUNT], skipped[PLAN_COUNT], fired[PLAN_COUNT];
    memset(matched, 0, sizeof matched);
    memset(skipped, 0, sizeof skipped);
    memset(fired, 0, sizeof fired);
    int64_t run_end_ns = st.n ? st.v[st.n - 1].pub_ns : 0;
    for (size_t k = 0; k < firing_count; k++) {
        const firing_t *f = &firings[k];
        const planned_t *p = plan_find(f->name, f->market, f->symbol);
        if (!p)
            continue;
        size_t pi = (size_t)(p - PLAN);
        fired[pi]++;
        if (p->expect != EXPECT_GAP && p->expect != EXPECT_DISCONNECT &&
            p->expect != EXPECT_NOTHING)
            continue;
        int64_t window = BREAK_WINDOW_NS;
        if (strcmp(f->name, "stall") == 0)
            window += 3000000000LL; /* the gap shows once the stall is over */
        if (f->ns + window > run_end_ns) {
            skipped[pi]++;
            continue;
        }
        for (size_t i = 0; i < PIPELINE_SYMBOLS; i++) {
            const char *symbol = pipeline_symbol(f->market, i);
            if (f->symbol[0] && strcmp(symbol, f->symbol) != 0)
                continue;
            if (strcmp(state_at(&st, f->market, symbol, f->ns), "synced") != 0 ||
                other_break_near(firings, firing_count, f, f->market, symbol, f->ns, QUIET_NS,
                                 window)) {
                skipped[pi]++;
                continue;
            }
            const pipeline_status_t *b = first_break(&st, f->market, symbol, f->ns, f->ns + window);
            const char *want = p->expect == EXPECT_GAP          ? "gap"
                               : p->expect == EXPECT_DISCONNECT ? "disconnect"
                                                                : NULL;
            if (want && (!b || strcmp(b->reason, want) != 0))
                detail(problems, &problem_count,
                       "%s on %s %s at %.3f s: %s (expected a resync with reason %s)", f->name,
                       market_name(f->market), symbol, (double)f->ns / 1e9,
                       b ? b->reason : "no resync", want);
            else if (!want && b)
                detail(problems, &problem_count,
                       "%s on %s %s at %.3f s: the book resynced (%s) %.3f s later", f->name,
                       market_name(f->market), symbol, (double)f->ns / 1e9, b->reason,
                       (double)(b->pub_ns - f->ns) / 1e9);
            else
                matched[pi]++;
        }
    }
    fprintf(stderr, "faults (fired; firings whose effect on a synced, otherwise quiet book was "
                    "checked; skipped):\n");
    for (size_t i = 0; i < PLAN_COUNT; i++)
        fprintf(stderr, "  %-14s %-5s %-14s fired %zu, checked %zu, skipped %zu\n", PLAN[i].name,
                market_name(PLAN[i].market), PLAN[i].symbol ? PLAN[i].symbol : "", fired[i],
                matched[i], skipped[i]);
    for (size_t i = 0; i < PLAN_COUNT; i++) {
        /* A firing needs the sim's clock past after_s, and its effect a few seconds more. */
        if (!fired[i] && PLAN[i].after_s + 5 < seconds)
            detail(problems, &problem_count, "%s on %s never fired", PLAN[i].name,
                   market_name(PLAN[i].market));
        /* Each kind must have met a synced book on its own at least once (one entry per kind
           and market suffices when another entry of the kind made it). */
        if ((PLAN[i].expect == EXPECT_GAP || PLAN[i].expect == EXPECT_DISCONNECT ||
             PLAN[i].expect == EXPECT_NOTHING) &&
            fired[i] && !matched[i]) {
            bool other = false;
            for (size_t j = 0; j < PLAN_COUNT; j++)
                other |= j != i && strcmp(PLAN[j].name, PLAN[i].name) == 0 && matched[j];
            if (!other)
                detail(problems, &problem_count, "no firing of %s was checked on a quiet book",
                       PLAN[i].name);
        }
    }

    /* Junk frames are counted, never acted on: each connection a malformed or wrong_types
       fault reached sends one more bad frame (a truncation may cut one of those, or a frame
       of its own). */
    double bad_total = 0, hb_ns = 0;
    if (hb) {
        const cJSON *bad = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(hb, "counters"), "bad_input");
        const cJSON *v;
        cJSON_ArrayForEach(v, bad) if (cJSON_IsNumber(v)) bad_total += v->valuedouble;
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(hb, "ts_ns");
        hb_ns = cJSON_IsNumber(ts) ? ts->valuedouble : 0;
    }
    int junk = 0;
    for (size_t k = 0; k < firing_count; k++)
        if ((strcmp(firings[k].name, "malformed") == 0 ||
             strcmp(firings[k].name, "wrong_types") == 0) &&
            (double)firings[k].ns < hb_ns - 200e6)
            junk += firings[k].affected;
    fprintf(stderr,
            "bad input: %.0f frames counted, %d junk frames injected before the last "
            "heartbeat\n",
            bad_total, junk);
    if (bad_total < junk)
        detail(problems, &problem_count, "%.0f bad frames counted for %d injected", bad_total,
               junk);

    /* Snapshot faults act on whichever depth request of the market comes next: each one the
       sim served must show on the book it was for (a 429's line names no symbol: any book of
       the market), at once. */
    size_t served[3] = {0, 0, 0}; /* stale, failed (5xx, 429), slow */
    for (size_t k = 0; k < serving_count; k++) {
        const serving_t *sv = &servings[k];
        const char *want =
            strcmp(sv->kind, "snapshot_stale") == 0 ? "snapshot_stale"
            : strcmp(sv->kind, "snapshot_5xx") == 0 || strcmp(sv->kind, "snapshot_429") == 0
                ? "snapshot_failed"
                : NULL;
        served[want ? (strcmp(want, "snapshot_stale") == 0 ? 0 : 1) : 2]++;
        if (!want || sv->ns + BREAK_WINDOW_NS > run_end_ns)
            continue;
        bool shown = false;
        for (size_t i = 0; i < st.n && !shown; i++) {
            const pipeline_status_t *x = &st.v[i];
            shown = x->market == sv->market &&
                    (!sv->symbol[0] || strcmp(x->symbol, sv->symbol) == 0) &&
                    x->pub_ns > sv->ns - 50000000LL && x->pub_ns <= sv->ns + BREAK_WINDOW_NS &&
                    strcmp(x->reason, want) == 0;
        }
        if (!shown)
            detail(problems, &problem_count,
                   "%s served for %s %s at %.3f s: no status with reason %s followed", sv->kind,
                   market_name(sv->market), sv->symbol[0] ? sv->symbol : "(a book)",
                   (double)sv->ns / 1e9, want);
    }
    fprintf(stderr, "snapshot faults served: %zu stale, %zu failed (5xx, 429), %zu slow\n",
            served[0], served[1], served[2]);
    if (seconds >= 120 && (!served[0] || !served[1] || !served[2]))
        detail(problems, &problem_count, "not every kind of snapshot fault was served");

    /* ---- trades ---- */
    pthread_mutex_lock(&s->lock);
    for (market_t m = MARKET_SPOT; m <= MARKET_COINM; m++) {
        bool complete = market_lossless(m);
        size_t trades = 0, aggs = 0;
        for (size_t i = 0; i < PIPELINE_SYMBOLS; i++) {
            int b = book_of(m, pipeline_symbol(m, i));
            for (int kind = 0; kind < 2; kind++) {
                trade_report_t r;
                check_ids(kind ? &s->aggs[b] : &s->trades[b], kind == 1, &r);
                if (kind)
                    aggs += r.count;
                else
                    trades += r.count;
                const char *what = kind ? "agg trade" : "trade";
                if (r.count == 0)
                    detail(problems, &problem_count, "no %s on %s %s", what, market_name(m),
                           pipeline_symbol(m, i));
                if (r.duplicates)
                    detail(problems, &problem_count, "%s %s: %zu %s ids published twice (%s)",
                           market_name(m), pipeline_symbol(m, i), r.duplicates, what,
                           r.first_problem);
                if (complete && (r.missing || r.agg_breaks))
                    detail(problems, &problem_count,
                           "%s %s: %zu %s ids missing, %zu aggregates not following on (%s)",
                           market_name(m), pipeline_symbol(m, i), r.missing, what, r.agg_breaks,
                           r.first_problem);
            }
        }
        fprintf(stderr, "trades %-5s: %zu trades and %zu agg trades checked for duplicates%s\n",
                market_name(m), trades, aggs, complete ? ", and for contiguous ids (no loss)" : "");
    }
    if (s->trade_errors)
        detail(problems, &problem_count, "%zu unreadable trades: %s", s->trade_errors,
               s->trade_error);
    pthread_mutex_unlock(&s->lock);

    /* ---- the bus, the processes ---- */
    char bus[1600];
    size_t bus_errors = pipeline_bus_errors(s->p, bus, sizeof bus);
    fprintf(stderr, "bus: %" PRIu64 " messages on %zu topics, %zu seq errors\n",
            pipeline_messages(s->p), pipeline_topic_count(s->p), bus_errors);
    if (bus_errors)
        detail(problems, &problem_count, "%zu errors on the data bus: %s", bus_errors, bus);
    if (hb) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(hb, "counters");
        char *text = cJSON_PrintUnformatted(c);
        fprintf(stderr, "bookbuilder counters: %s\n", text ? text : "?");
        free(text);
    }
    for (int m = 0; m < PIPELINE_MARKETS; m++) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(collector_hb[m], "counters");
        const cJSON *rot = cJSON_GetObjectItemCaseSensitive(c, "rotations");
        const cJSON *rec = cJSON_GetObjectItemCaseSensitive(c, "reconnects");
        fprintf(stderr, "collector %-5s: %.0f rotations, %.0f reconnects\n",
                market_name((market_t)(m + 1)), cJSON_IsNumber(rot) ? rot->valuedouble : -1,
                cJSON_IsNumber(rec) ? rec->valuedouble : -1);
        /* Connections rotate at 45 s of age; a drop restarts the clock of spot's. */
        if (seconds >= 120 && (!cJSON_IsNumber(rot) || rot->valuedouble < 1))
            detail(problems, &problem_count, "the %s collector never rotated a connection",
                   market_name((market_t)(m + 1)));
        cJSON_Delete(collector_hb[m]);
    }
    cJSON_Delete(hb);
    free(firings);
    free(servings);
    free(st.v);
    if (collectors_unclean)
        detail(problems, &problem_count, "%d collectors did not exit 0", collectors_unclean);
    if (bookbuilder_status != 0)
        detail(problems, &problem_count, "the bookbuilder exited with %d", bookbuilder_status);
    /* At least half of the possible checkpoints must find their book synced and compare it. */
    for (int m = 0; m < PIPELINE_MARKETS; m++)
        if (checks[m].compared < rounds * PIPELINE_SYMBOLS / 2)
            detail(problems, &problem_count, "only %zu checkpoints compared on %s",
                   checks[m].compared, market_name((market_t)(m + 1)));
    if (problem_count) {
        fprintf(stderr, "==== %zu problems ====\n", problem_count);
        for (size_t i = 0; i < problem_count && i < DETAILS_KEPT; i++)
            fprintf(stderr, "  %s\n", problems[i]);
        fail_msg("%zu problems in the soak; the first: %s", problem_count, problems[0]);
    }
}

static int setup(void **state)
{
    soak_t *s = calloc(1, sizeof *s);
    assert_non_null(s);
    pthread_mutex_init(&s->lock, NULL);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    soak_t *s = *state;
    if (!s)
        return 0;
    pipeline_destroy(&s->p);
    if (s->record)
        fclose(s->record);
    for (int b = 0; b < PIPELINE_BOOKS; b++) {
        free(s->trades[b].v);
        free(s->aggs[b].v);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
    *state = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(soak_under_combined_faults_every_book_equals_the_truth,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

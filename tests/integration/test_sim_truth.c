/*
 * test_sim_truth.c — a book built by Binance's rules from the sim's streams and snapshots equals
 * the sim's truth, on every market, also across the faults that force a resync.
 *
 * The book is built by `bookcast-testclient sync`, an independent client written from the
 * protocol document (tests/integration/tc_sync.c): it buffers the diff stream, fetches a REST
 * snapshot, applies the spot or futures rules, and at each check compares its book, level by
 * level, with GET /_sim/book at its own update id. Exit 0 means every check was equal; with
 * --expect-resync, also that the rules noticed the fault, resynced, and were equal afterwards.
 * Faults are fired through the control API while the client runs. Finally the truth file
 * (--truth) replays, from its first book through its updates, to the very book /_sim/book gives.
 */
#include "session.h"
#include "simproc.h"
#include "simtest.h"
#include "tc_book.h"
#include "tc_depth.h"

#include <cjson/cJSON.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define SYNC_DURATION_MS "5000"
#define SYNC_TIMEOUT_S 30

typedef struct {
    simproc_t *sim;
} fixture_t;

static int setup(void **state)
{
    static fixture_t f;
    const char *args[] = {"--symbols", "4", "--seed", "11", NULL};
    f.sim = simproc_start(args);
    *state = &f;
    return f.sim ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(simproc_stop(&f->sim), 0);
    return 0;
}

/* Starts `bookcast-testclient sync` on market/symbol with extra arguments; returns its pid. Its
   output goes to the test's stdout, which ctest shows on failure. */
static pid_t sync_start(const simproc_t *sim, const char *market, market_t m, const char *symbol,
                        const char *const *extra)
{
    char port[16];
    snprintf(port, sizeof port, "%d", simproc_port(sim, m));
    const char *argv[32] = {BOOKCAST_TESTCLIENT_BIN, "sync", "--market", market, "--host",
                            "127.0.0.1", "--port", port, "--ca", simproc_ca(sim), "--symbol",
                            symbol, "--duration-ms", SYNC_DURATION_MS, "--checks", "4"};
    int n = 16;
    for (int i = 0; extra && extra[i] && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(SYNC_TIMEOUT_S);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int sync_wait(pid_t pid)
{
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void expect_equal_books(void **state, const char *market, market_t m, const char *symbol,
                               const char *const *extra)
{
    fixture_t *f = *state;
    pid_t pid = sync_start(f->sim, market, m, symbol, extra);
    assert_true(pid > 0);
    int rc = sync_wait(pid);
    if (rc != 0)
        fail_msg("%s %s: bookcast-testclient sync exited %d (0: every check equal)", market,
                 symbol, rc);
}

/* Fires `fault` on market m after 1.5 s of syncing and expects a resync and equal books. */
static void expect_resync_after(void **state, const char *market, market_t m, const char *symbol,
                                const char *fault)
{
    fixture_t *f = *state;
    const char *extra[] = {"--expect-resync", NULL};
    pid_t pid = sync_start(f->sim, market, m, symbol, extra);
    assert_true(pid > 0);
    simtest_sleep_ms(1500);
    char query[160];
    snprintf(query, sizeof query, "name=%s&symbol=%s", fault, symbol);
    int fired = simtest_fault(f->sim, m, query);
    int rc = sync_wait(pid);
    if (fired != 200)
        fail_msg("%s: fault %s did not fire (HTTP %d)", market, fault, fired);
    if (rc != 0)
        fail_msg("%s %s: after fault %s, bookcast-testclient sync --expect-resync exited %d", market,
                 symbol, fault, rc);
}

static void spot_book_equals_truth(void **state)
{
    expect_equal_books(state, "spot", MARKET_SPOT, "BTCUSDT", NULL);
}

static void spot_book_from_a_5000_level_snapshot_equals_truth(void **state)
{
    const char *extra[] = {"--limit", "5000", NULL};
    expect_equal_books(state, "spot", MARKET_SPOT, "ETHUSDT", extra);
}

static void usdm_book_equals_truth(void **state)
{
    expect_equal_books(state, "usdm", MARKET_USDM, "BTCUSDT", NULL);
}

static void usdm_real_time_book_equals_truth(void **state)
{
    const char *extra[] = {"--speed", "0ms", NULL};
    expect_equal_books(state, "usdm", MARKET_USDM, "ETHUSDT", extra);
}

static void coinm_book_equals_truth(void **state)
{
    expect_equal_books(state, "coinm", MARKET_COINM, "BTCUSD_PERP", NULL);
}

static void spot_gap_is_detected_and_the_book_resynced_equal(void **state)
{
    expect_resync_after(state, "spot", MARKET_SPOT, "BTCUSDT", "gap");
}

static void usdm_broken_pu_chain_is_detected_and_the_book_resynced_equal(void **state)
{
    expect_resync_after(state, "usdm", MARKET_USDM, "BTCUSDT", "break_pu");
}

static void coinm_gap_is_detected_and_the_book_resynced_equal(void **state)
{
    expect_resync_after(state, "coinm", MARKET_COINM, "BTCUSD_PERP", "gap");
}

/* Applies a truth-file level list ([["p","q"],…], quantities absolute) to one side. */
static void apply_levels(tc_side_t *side, const cJSON *levels)
{
    const cJSON *level;
    cJSON_ArrayForEach(level, levels)
    {
        const cJSON *p = cJSON_GetArrayItem(level, 0), *q = cJSON_GetArrayItem(level, 1);
        dec_t price, qty;
        assert_true(cJSON_IsString(p) && cJSON_IsString(q));
        assert_int_equal(dec_parse(p->valuestring, strlen(p->valuestring), 0, &price), DEC_OK);
        assert_int_equal(dec_parse(q->valuestring, strlen(q->valuestring), 0, &qty), DEC_OK);
        assert_int_equal(tc_side_set(side, price, qty), 0);
    }
}

static void expect_same_levels(const tc_side_t *side, const tc_levels_t *truth, const char *name)
{
    if (side->levels.n != truth->n)
        fail_msg("%s: %zu levels replayed, %zu in the truth", name, side->levels.n, truth->n);
    for (size_t i = 0; i < truth->n; i++)
        if (dec_cmp(side->levels.v[i].price, truth->v[i].price) != 0 ||
            dec_cmp(side->levels.v[i].qty, truth->v[i].qty) != 0)
            fail_msg("%s level %zu differs", name, i);
}

/* Replays the lines of `symbol` on `market` in the truth file up to update id `until` (the book line, then every
   update whose last_id <= until) and compares the result with `truth`. Returns the updates
   applied. */
static size_t replay_and_compare(const char *path, market_t market, const char *symbol,
                                 uint64_t until, const tc_book_json_t *truth)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    tc_book_t book;
    tc_book_init(&book);
    bool have_book = false;
    size_t applied = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        cJSON *o = cJSON_ParseWithLength(line, (size_t)n);
        assert_non_null(o);
        const cJSON *sym = cJSON_GetObjectItemCaseSensitive(o, "symbol");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
        const cJSON *mk = cJSON_GetObjectItemCaseSensitive(o, "market");
        assert_true(cJSON_IsString(sym) && cJSON_IsString(type) && cJSON_IsString(mk));
        if (strcmp(sym->valuestring, symbol) == 0 &&
            strcmp(mk->valuestring, market_name(market)) == 0) {
            if (strcmp(type->valuestring, "book") == 0) {
                assert_false(have_book);
                apply_levels(&book.bids, cJSON_GetObjectItemCaseSensitive(o, "bids"));
                apply_levels(&book.asks, cJSON_GetObjectItemCaseSensitive(o, "asks"));
                have_book = true;
            } else {
                const cJSON *last = cJSON_GetObjectItemCaseSensitive(o, "last_id");
                assert_true(have_book && cJSON_IsNumber(last));
                if ((uint64_t)last->valuedouble <= until) {
                    apply_levels(&book.bids, cJSON_GetObjectItemCaseSensitive(o, "b"));
                    apply_levels(&book.asks, cJSON_GetObjectItemCaseSensitive(o, "a"));
                    applied++;
                }
            }
        }
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    assert_true(have_book);
    expect_same_levels(&book.bids, &truth->bids, "bids");
    expect_same_levels(&book.asks, &truth->asks, "asks");
    tc_book_free(&book);
    return applied;
}

/* The truth file (--truth): its initial book plus its updates up to an id give exactly the book
   GET /_sim/book answers for that id — the same truth the client books are checked against. */
static void truth_file_replays_to_the_true_book(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/tmp/bookcast-truth-%d.jsonl", (int)getpid());
    const char *args[] = {"--symbols", "2", "--truth", path, "--truth-symbols",
                          "BTCUSDT,BTCUSD_PERP", NULL};
    simproc_t *sim = simproc_start(args);
    assert_non_null(sim);
    simtest_sleep_ms(2000);
    static const struct {
        market_t market;
        const char *symbol;
    } cases[] = {{MARKET_SPOT, "BTCUSDT"}, {MARKET_COINM, "BTCUSD_PERP"}};
    tc_book_json_t truth[2];
    for (int i = 0; i < 2; i++) {
        char query[96], err[200];
        snprintf(query, sizeof query, "/_sim/book?symbol=%s", cases[i].symbol);
        tc_get_result_t r;
        assert_int_equal(simtest_get(sim, cases[i].market, query, &r), 200);
        if (tc_depth_parse_book(r.body, r.body_len, "update_id", cases[i].symbol, &truth[i], err,
                                sizeof err) != 0)
            fail_msg("truth body: %s", err);
        tc_get_result_free(&r);
    }
    simtest_sleep_ms(500); /* the file runs past those ids */
    assert_int_equal(simproc_stop(&sim), 0);
    for (int i = 0; i < 2; i++) {
        size_t applied =
            replay_and_compare(path, cases[i].market, cases[i].symbol, truth[i].update_id,
                               &truth[i]);
        print_message("%s: %zu updates replayed to %llu, book equal\n", cases[i].symbol, applied,
                      (unsigned long long)truth[i].update_id);
        assert_true(applied > 10);
        tc_book_json_free(&truth[i]);
    }
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spot_book_equals_truth),
        cmocka_unit_test(spot_book_from_a_5000_level_snapshot_equals_truth),
        cmocka_unit_test(usdm_book_equals_truth),
        cmocka_unit_test(usdm_real_time_book_equals_truth),
        cmocka_unit_test(coinm_book_equals_truth),
        cmocka_unit_test(spot_gap_is_detected_and_the_book_resynced_equal),
        cmocka_unit_test(usdm_broken_pu_chain_is_detected_and_the_book_resynced_equal),
        cmocka_unit_test(coinm_gap_is_detected_and_the_book_resynced_equal),
    };
    const struct CMUnitTest file_tests[] = {
        cmocka_unit_test(truth_file_replays_to_the_true_book),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    return failed + cmocka_run_group_tests(file_tests, NULL, NULL);
}

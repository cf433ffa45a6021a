/*
 * test_sim_truth.c — a book built by Binance's rules from the sim's streams and snapshots equals
 * the sim's truth, on every market, also across the faults that force a resync.
 *
 * The book is built by `bookcast-testclient sync`, an independent client written from the
 * protocol document (tests/integration/tc_sync.c): it buffers the diff stream, fetches a REST
 * snapshot, applies the spot or futures rules, and at each check compares its book, level by
 * level, with GET /_sim/book at its own update id. Exit 0 means every check was equal; with
 * --expect-resync, also that the rules noticed the fault, resynced, and were equal afterwards.
 * Faults are fired through the control API while the client runs.
 */
#include "session.h"
#include "simproc.h"
#include "simtest.h"

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
    return cmocka_run_group_tests(tests, setup, teardown);
}

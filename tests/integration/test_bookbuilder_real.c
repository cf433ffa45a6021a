/*
 * test_bookbuilder_real.c — real Binance data through the bookbuilder.
 *
 * The captures in tests/data/binance-real-data (its README.md) were recorded from Binance's
 * production streams by other projects: three hftbacktest files (spot over two days, USD-M,
 * COIN-M, one symbol each, ~6 minutes) and three cryptofeed sets (spot, USD-M, COIN-M, 4 to 10
 * symbols, 30 s). Each is converted into a frame file (capture.h) and run through the builder in
 * process by real_run (real_run.h), which reads the input and every published message itself and
 * watches the book between frames. Each test below is one property, checked on all six captures:
 *
 *   - every book syncs on its first snapshot and never leaves the synced state;
 *   - the top of the book equals every bookTicker carrying an update id the book was at (the
 *     captures' built-in oracle), compared here, apart from the builder's own bbo_check;
 *   - every trade id of the input reaches the bus exactly once;
 *   - deleting a level the book does not hold changes nothing (Binance sends such deletions
 *     often: thousands in each hftbacktest file, nearly all inside the book's price range);
 *   - the published book stream rebuilds the builder's book exactly, as strings;
 *   - no published message shows a crossed book;
 *   - `bookcast-bookbuilder --replay` writes the same bytes twice, and the same bytes as the
 *     in-process run, so the properties above hold for the program's output too.
 *
 * The captures are test data, not optional: a missing directory fails every test.
 */
#include "capture.h"
#include "real_run.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    const char *name;
    bool hftbacktest;
    market_t market;
    const char *symbol;   /* hftbacktest: the symbol of the snapshot line */
    const char *files[2]; /* hftbacktest: gzip files, read in order as one; cryptofeed: ws, http */
    size_t books;
    /* Lower bounds, about half of what these captures give, so that a check that silently
       stopped happening fails. */
    uint64_t min_comparisons;
    uint64_t min_unknown_deletes;
    uint64_t min_out_lines;
} input_t;

static const input_t INPUTS[] = {
    {.name = "spot_btcusdt",
     .hftbacktest = true,
     .market = MARKET_SPOT,
     .symbol = "BTCUSDT",
     .files = {"spot_btcusdt_20240808.gz", "spot_btcusdt_20240809.gz"},
     .books = 1,
     .min_comparisons = 500,
     .min_unknown_deletes = 10000,
     .min_out_lines = 20000},
    {.name = "usdm_btcusdt",
     .hftbacktest = true,
     .market = MARKET_USDM,
     .symbol = "BTCUSDT",
     .files = {"usdm_btcusdt_20240808.gz"},
     .books = 1,
     .min_comparisons = 300,
     .min_unknown_deletes = 8000,
     .min_out_lines = 20000},
    {.name = "coinm_ethusd_perp",
     .hftbacktest = true,
     .market = MARKET_COINM,
     .symbol = "ETHUSD_PERP",
     .files = {"cm_ethusd_perp_20240808.gz"},
     .books = 1,
     .min_comparisons = 600,
     .min_unknown_deletes = 15000,
     .min_out_lines = 20000},
    {.name = "cryptofeed_spot",
     .market = MARKET_SPOT,
     .files = {"cryptofeed_BINANCE.ws.1.0", "cryptofeed_BINANCE.http.0.0"},
     .books = 4,
     .min_comparisons = 10,
     .min_unknown_deletes = 0,
     .min_out_lines = 200},
    {.name = "cryptofeed_usdm",
     .market = MARKET_USDM,
     .files = {"cryptofeed_BINANCE_FUTURES.ws.1.0", "cryptofeed_BINANCE_FUTURES.http.0.0"},
     .books = 4,
     .min_comparisons = 20,
     .min_unknown_deletes = 25,
     .min_out_lines = 900},
    {.name = "cryptofeed_coinm",
     .market = MARKET_COINM,
     .files = {"cryptofeed_BINANCE_DELIVERY.ws.1.0", "cryptofeed_BINANCE_DELIVERY.http.0.0"},
     .books = 10,
     .min_comparisons = 100,
     .min_unknown_deletes = 400,
     .min_out_lines = 2000},
};
#define INPUT_COUNT (sizeof INPUTS / sizeof INPUTS[0])

typedef struct {
    char dir[PATH_MAX]; /* frame files and outputs, removed at the end */
    char error[1024];   /* why the runs could not be made: every test fails with it */
    char frames[INPUT_COUNT][PATH_MAX];
    real_run_t runs[INPUT_COUNT];
} fixture_t;

static fixture_t fixture;

/* snprintf into buf, for paths and messages: a value too long is cut, never overflows. */
static void fmt_into(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fmt_into(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The whole file at path, NUL-terminated; NULL when unreadable. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n + 65536 + 1 > cap) {
            cap = cap ? cap * 2 : 1 << 20;
            char *bigger = realloc(buf, cap);
            if (!bigger) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = bigger;
        }
        got = fread(buf + n, 1, 65536, f);
        n += got;
    } while (got > 0);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Runs argv (argv[0] a path, or a name looked up in PATH) in dir with stdout to out_path and
   stderr to err_path. Returns its exit status, or -1 when it did not exit normally. */
static int run_program(char *const argv[], const char *dir, const char *out_path,
                       const char *err_path)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || chdir(dir) != 0)
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void data_path(char *buf, size_t len, const char *file)
{
    fmt_into(buf, len, "%s/%s", BOOKCAST_REAL_DATA_DIR, file);
}

/* Converts one capture into fixture.frames[i]. Returns 0, or -1 with fixture.error set. */
static int convert(size_t i)
{
    const input_t *in = &INPUTS[i];
    capture_options_t opt = {.market = in->market, .instance_id = 1, .symbol = in->symbol};
    char a[PATH_MAX], b[PATH_MAX], err[512];
    data_path(a, sizeof a, in->files[0]);
    if (!in->hftbacktest) {
        data_path(b, sizeof b, in->files[1]);
        if (capture_cryptofeed(&opt, a, b, fixture.frames[i], NULL, err, sizeof err) == 0)
            return 0;
        fmt_into(fixture.error, sizeof fixture.error, "%s: %s", in->name, err);
        return -1;
    }
    /* Both spot days as one input: the second continues the first on the same connection. */
    char text[PATH_MAX], log[PATH_MAX];
    fmt_into(text, sizeof text, "%s/%s.txt", fixture.dir, in->name);
    fmt_into(log, sizeof log, "%s/%s.gzip.log", fixture.dir, in->name);
    char *argv[] = {"gzip", "-dc", a, NULL, NULL};
    if (in->files[1]) {
        data_path(b, sizeof b, in->files[1]);
        argv[3] = b;
    }
    int rc = run_program(argv, fixture.dir, text, log);
    if (rc != 0) {
        size_t len;
        char *why = slurp(log, &len);
        fmt_into(fixture.error, sizeof fixture.error, "%s: gzip -dc %s exited with %d: %s",
                 in->name, a, rc, why ? why : "");
        free(why);
        return -1;
    }
    rc = capture_hftbacktest(&opt, text, fixture.frames[i], NULL, err, sizeof err);
    unlink(text);
    unlink(log);
    if (rc != 0)
        fmt_into(fixture.error, sizeof fixture.error, "%s: %s", in->name, err);
    return rc;
}

static int setup(void **state)
{
    *state = &fixture;
    struct stat st;
    int found =
        stat(BOOKCAST_REAL_DATA_DIR, &st) == 0 ? (S_ISDIR(st.st_mode) ? 0 : ENOTDIR) : errno;
    if (found != 0) {
        fmt_into(fixture.error, sizeof fixture.error,
                 "the real Binance captures are missing: %s: %s; these tests need "
                 "binance-real-data/ (see its README.md) next to the source tree",
                 BOOKCAST_REAL_DATA_DIR, strerror(found));
        return 0;
    }
    const char *tmp = getenv("TMPDIR");
    fmt_into(fixture.dir, sizeof fixture.dir, "%s/bookcast-real-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fixture.dir)) {
        fmt_into(fixture.error, sizeof fixture.error, "mkdtemp %s: %s", fixture.dir,
                 strerror(errno));
        fixture.dir[0] = '\0';
        return 0;
    }
    for (size_t i = 0; i < INPUT_COUNT; i++) {
        real_run_t *r = &fixture.runs[i];
        fmt_into(fixture.frames[i], sizeof fixture.frames[i], "%s/%s.frames", fixture.dir,
                 INPUTS[i].name);
        double t0 = now_s();
        if (convert(i) != 0)
            return 0;
        double converted = now_s() - t0;
        r->name = INPUTS[i].name;
        r->market = INPUTS[i].market;
        r->frames_path = fixture.frames[i];
        char err[512];
        if (real_run(r, err, sizeof err) != 0) {
            fmt_into(fixture.error, sizeof fixture.error, "%s: %s", INPUTS[i].name, err);
            return 0;
        }
        printf("%-18s converted in %.2f s; %" PRIu64 " frames run and checked in %.2f s: %zu "
               "books, %zu messages published\n",
               r->name, converted, r->frames, r->seconds, r->builder_books, r->msg_count);
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0)
        printf("cannot remove %s: %s\n", path, strerror(errno));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < INPUT_COUNT; i++)
        real_run_free(&fixture.runs[i]);
    if (fixture.dir[0])
        nftw(fixture.dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* Fails the test when the runs could not be made, or read something they could not read. */
static void require_runs(void)
{
    if (fixture.error[0])
        fail_msg("%s", fixture.error);
    for (size_t i = 0; i < INPUT_COUNT; i++) {
        const real_problems_t *p = &fixture.runs[i].problems[REAL_P_INPUT];
        for (uint64_t k = 0; k < p->count && k < REAL_PROBLEMS_KEPT; k++)
            printf("  %s: %s\n", INPUTS[i].name, p->first[k]);
        if (p->count)
            fail_msg("%s: %" PRIu64 " frames or messages could not be read", INPUTS[i].name,
                     p->count);
    }
}

/* Prints the problems of one kind; returns how many there were. */
static uint64_t report(const real_run_t *r, real_problem_t kind)
{
    const real_problems_t *p = &r->problems[kind];
    for (uint64_t k = 0; k < p->count && k < REAL_PROBLEMS_KEPT; k++)
        printf("  %s: %s\n", r->name, p->first[k]);
    if (p->count > REAL_PROBLEMS_KEPT)
        printf("  %s: … %" PRIu64 " in all\n", r->name, p->count);
    return p->count;
}

/* One figure checked: printed when it fails, counted in *failed. */
static void expect(bool ok, int *failed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void expect(bool ok, int *failed, const char *fmt, ...)
{
    if (ok)
        return;
    va_list ap;
    va_start(ap, fmt);
    printf("  FAILED: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    (*failed)++;
}

/* ---- the tests ----------------------------------------------------------------------------- */

static void every_book_syncs_on_its_first_snapshot_and_never_resyncs(void **state)
{
    (void)state;
    require_runs();
    int failed = 0;
    for (size_t i = 0; i < INPUT_COUNT; i++) {
        const real_run_t *r = &fixture.runs[i];
        const builder_counters_t *c = &r->counters;
        size_t books = 0;
        int64_t slowest_ns = 0;
        for (size_t k = 0; k < r->sym_count; k++) {
            const real_symbol_t *s = r->syms[k];
            books += s->has_depth;
            if (s->has_depth && s->first_snapshot_ns - s->first_depth_ns > slowest_ns)
                slowest_ns = s->first_snapshot_ns - s->first_depth_ns;
        }
        uint64_t resyncs = 0;
        for (int k = 0; k < SYNC_REASON_COUNT; k++)
            resyncs += c->resyncs[k];
        printf("%-18s %zu books synced, %" PRIu64 " snapshot requests, %" PRIu64 " applied; "
               "slowest snapshot %.3f s after the book's first event\n",
               r->name, r->states[SYNC_SYNCED], c->snapshot_requests, c->snapshots_applied,
               (double)slowest_ns / 1e9);
        failed += report(r, REAL_P_STATUS) != 0;
        expect(books == INPUTS[i].books && r->builder_books == books, &failed,
               "%s: %zu books expected, the input has %zu, the builder %zu", r->name,
               INPUTS[i].books, books, r->builder_books);
        expect(r->states[SYNC_SYNCED] == books, &failed, "%s: %zu of %zu books synced", r->name,
               r->states[SYNC_SYNCED], books);
        expect(resyncs == 0, &failed, "%s: %" PRIu64 " resyncs", r->name, resyncs);
        expect(c->snapshots_applied == books && c->snapshot_requests == books, &failed,
               "%s: %" PRIu64 " snapshots applied, %" PRIu64 " requested, for %zu books", r->name,
               c->snapshots_applied, c->snapshot_requests, books);
        expect(c->snapshot_timeouts == 0 && c->snapshots_too_old == 0 && c->snapshots_broken == 0 &&
                   c->snapshot_errors == 0 && c->snapshots_bad == 0 &&
                   c->snapshot_request_failures == 0,
               &failed,
               "%s: snapshots timed out %" PRIu64 ", too old %" PRIu64 ", broken %" PRIu64
               ", errors %" PRIu64 ", bad %" PRIu64 ", request failures %" PRIu64,
               r->name, c->snapshot_timeouts, c->snapshots_too_old, c->snapshots_broken,
               c->snapshot_errors, c->snapshots_bad, c->snapshot_request_failures);
        uint64_t parse_errors = 0;
        for (int k = 1; k < PARSE_ERR_COUNT; k++)
            parse_errors += c->parse_errors[k];
        expect(parse_errors == 0 && c->frames_bad_envelope == 0 && c->unknown_symbols == 0 &&
                   c->books_refused == 0,
               &failed,
               "%s: %" PRIu64 " parse errors, %" PRIu64 " bad envelopes, %" PRIu64
               " unknown symbols, %" PRIu64 " books refused",
               r->name, parse_errors, c->frames_bad_envelope, c->unknown_symbols, c->books_refused);
    }
    assert_int_equal(failed, 0);
}

static void top_of_book_equals_every_book_ticker_of_the_same_update_id(void **state)
{
    (void)state;
    require_runs();
    int failed = 0;
    for (size_t i = 0; i < INPUT_COUNT; i++) {
        const real_run_t *r = &fixture.runs[i];
        uint64_t comparisons = 0, tickers = 0;
        for (size_t k = 0; k < r->sym_count; k++) {
            comparisons += r->syms[k]->comparisons;
            tickers += r->syms[k]->tickers.n;
        }
        printf("%-18s %" PRIu64
               " bookTickers compared with the book at their update id (of %" PRIu64
               "); the builder's own bbo_checks %" PRIu64 "\n",
               r->name, comparisons, tickers, r->counters.bbo_checks);
        expect(report(r, REAL_P_TOP) == 0, &failed, "%s: the top of book differs", r->name);
        expect(comparisons >= INPUTS[i].min_comparisons, &failed,
               "%s: only %" PRIu64 " comparisons, at least %" PRIu64 " expected", r->name,
               comparisons, INPUTS[i].min_comparisons);
        expect(r->counters.bbo_checks > 0 && r->counters.bbo_mismatches == 0, &failed,
               "%s: the builder checked %" PRIu64 " bookTickers, %" PRIu64 " differed", r->name,
               r->counters.bbo_checks, r->counters.bbo_mismatches);
    }
    assert_int_equal(failed, 0);
}

static void every_trade_id_reaches_the_bus_exactly_once(void **state)
{
    (void)state;
    require_runs();
    int failed = 0;
    for (size_t i = 0; i < INPUT_COUNT; i++) {
        const real_run_t *r = &fixture.runs[i];
        uint64_t in[2] = {0, 0}, out[2] = {0, 0};
        for (size_t k = 0; k < r->sym_count; k++)
            for (int a = 0; a < 2; a++) {
                in[a] += r->syms[k]->trades_in[a].n;
                out[a] += r->syms[k]->trades_out[a].n;
            }
        printf("%-18s trades: %" PRIu64 " @trade ids in, %" PRIu64 " published; %" PRIu64
               " @aggTrade ids in, %" PRIu64 " published; builder duplicates %" PRIu64
               ", too old %" PRIu64 "\n",
               r->name, in[0], out[0], in[1], out[1], r->counters.trade_duplicates,
               r->counters.trades_too_old);
        expect(report(r, REAL_P_TRADE) == 0, &failed, "%s: trades differ", r->name);
        expect(in[0] + in[1] > 0, &failed, "%s: no trade in the input", r->name);
        expect(r->counters.trades == out[0] + out[1], &failed,
               "%s: the builder counts %" PRIu64 " trades, %" PRIu64 " were published", r->name,
               r->counters.trades, out[0] + out[1]);
    }
    assert_int_equal(failed, 0);
}

static void deleting_a_level_the_book_does_not_hold_changes_nothing(void **state)
{
    (void)state;
    require_runs();
    int failed = 0;
    for (size_t i = 0; i < INPUT_COUNT; i++) {
        const real_run_t *r = &fixture.runs[i];
        uint64_t unknown = 0, applied = 0, stale = 0;
        for (size_t k = 0; k < r->sym_count; k++) {
            unknown += r->syms[k]->unknown_deletes;
            applied += r->syms[k]->events_applied_synced;
            stale += r->syms[k]->events_stale;
        }
        printf("%-18s %" PRIu64 " deletions of levels not in the book, in %" PRIu64
               " events applied to synced books (%" PRIu64 " old events dropped)\n",
               r->name, unknown, applied, stale);
        expect(report(r, REAL_P_UNKNOWN) == 0, &failed,
               "%s: a deletion of an unknown level changed something", r->name);
        expect(unknown >= INPUTS[i].min_unknown_deletes, &failed,
               "%s: %" PRIu64 " unknown deletions, at least %" PRIu64 " expected", r->name, unknown,
               INPUTS[i].min_unknown_deletes);
        expect(applied > 0, &failed, "%s: no event applied to a synced book", r->name);
    }
    assert_int_equal(failed, 0);
}

static void published_book_stream_rebuilds_the_book(void **state)
{
    (void)state;
    require_runs();
    int failed = 0;
    for (size_t i = 0; i < INPUT_COUNT; i++) {
        const real_run_t *r = &fixture.runs[i];
        printf("%-18s book stream equal to the book at %" PRIu64 " checkpoints (%" PRIu64
               " levels compared); %" PRIu64 " depth20 and %" PRIu64 " bbo messages equal to it\n",
               r->name, r->checkpoints, r->levels_compared, r->depth_messages, r->bbo_messages);
        expect(report(r, REAL_P_MODEL) == 0, &failed, "%s: the book stream differs", r->name);
        expect(r->levels_compared > 0, &failed, "%s: no level compared", r->name);
    }
    assert_int_equal(failed, 0);
}

static void no_published_message_shows_a_crossed_book(void **state)
{
    (void)state;
    require_runs();
    int failed = 0;
    for (size_t i = 0; i < INPUT_COUNT; i++) {
        const real_run_t *r = &fixture.runs[i];
        expect(report(r, REAL_P_CROSSED) == 0, &failed, "%s: a crossed book", r->name);
        expect(r->bbo_messages > 0 && r->depth_messages > 0, &failed,
               "%s: no bbo or depth message to look at", r->name);
    }
    assert_int_equal(failed, 0);
}

/* Runs bookcast-bookbuilder --replay on frames, its messages to out_path. Returns its status. */
static int replay_program(const char *frames, const char *out_path, const char *log_path)
{
    char *argv[64];
    int n = 0;
    argv[n++] = BOOKCAST_BOOKBUILDER_BIN;
    argv[n++] = "--replay";
    argv[n++] = (char *)frames;
    argv[n++] = "--out";
    argv[n++] = (char *)out_path;
    for (size_t k = 0; REAL_PROGRAM_SETTINGS[k] && n < 62; k++) {
        argv[n++] = "--set";
        argv[n++] = (char *)REAL_PROGRAM_SETTINGS[k];
    }
    argv[n] = NULL;
    return run_program(argv, fixture.dir, "/dev/null", log_path);
}

static void replaying_twice_writes_identical_bytes(void **state)
{
    (void)state;
    require_runs();
    if (BOOKCAST_BOOKBUILDER_BIN[0] == '\0')
        fail_msg("bookcast-bookbuilder is not part of this build (bookbuilder/main.c)");
    int failed = 0;
    for (size_t i = 0; i < INPUT_COUNT; i++) {
        const real_run_t *r = &fixture.runs[i];
        char out[2][PATH_MAX], log[2][PATH_MAX];
        char *text[2] = {NULL, NULL};
        size_t len[2] = {0, 0};
        double seconds[2];
        for (int k = 0; k < 2; k++) {
            fmt_into(out[k], sizeof out[k], "%s/%s.out%d", fixture.dir, r->name, k + 1);
            fmt_into(log[k], sizeof log[k], "%s/%s.log%d", fixture.dir, r->name, k + 1);
            double t0 = now_s();
            int rc = replay_program(fixture.frames[i], out[k], log[k]);
            seconds[k] = now_s() - t0;
            if (rc != 0) {
                size_t loglen;
                char *logtext = slurp(log[k], &loglen);
                printf("%s", logtext ? logtext : "(no log)\n");
                free(logtext);
            }
            expect(rc == 0, &failed, "%s: bookcast-bookbuilder --replay exited with %d", r->name,
                   rc);
            text[k] = slurp(out[k], &len[k]);
            expect(text[k] != NULL, &failed, "%s: cannot read %s", r->name, out[k]);
        }
        if (text[0] && text[1]) {
            size_t lines = 0;
            for (size_t k = 0; k < len[0]; k++)
                lines += text[0][k] == '\n';
            printf("%-18s --replay twice: %zu lines, %zu bytes, in %.2f s and %.2f s\n", r->name,
                   lines, len[0], seconds[0], seconds[1]);
            expect(len[0] == len[1] && memcmp(text[0], text[1], len[0]) == 0, &failed,
                   "%s: the two replays differ (%s, %s)", r->name, out[0], out[1]);
            expect(len[0] == r->out_len && memcmp(text[0], r->out, len[0]) == 0, &failed,
                   "%s: the program's output (%zu bytes) differs from the in-process run's "
                   "(%zu bytes)",
                   r->name, len[0], r->out_len);
            expect(lines >= INPUTS[i].min_out_lines, &failed,
                   "%s: %zu lines, at least %" PRIu64 " expected", r->name, lines,
                   INPUTS[i].min_out_lines);
        }
        for (int k = 0; k < 2; k++) {
            free(text[k]);
            unlink(out[k]);
            unlink(log[k]);
        }
    }
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_book_syncs_on_its_first_snapshot_and_never_resyncs),
        cmocka_unit_test(top_of_book_equals_every_book_ticker_of_the_same_update_id),
        cmocka_unit_test(every_trade_id_reaches_the_bus_exactly_once),
        cmocka_unit_test(deleting_a_level_the_book_does_not_hold_changes_nothing),
        cmocka_unit_test(published_book_stream_rebuilds_the_book),
        cmocka_unit_test(no_published_message_shows_a_crossed_book),
        cmocka_unit_test(replaying_twice_writes_identical_bytes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * bookcast-sim — an offline Binance for tests, benchmarks and the demo.
 *
 * One process serves Spot, USD-M and COIN-M market data on three loopback listeners, WebSocket
 * and REST on each, over TLS with a certificate it is given (sim/make-certs.sh makes a throwaway
 * one). Every market is a seeded simulation, so the same seed and options give the same
 * streams; faults can be scheduled here (--faults) or fired through the control API. main only
 * turns options into the venues and the server; docs/sim.md is the manual.
 */
#include "cli.h"
#include "faults.h"
#include "log.h"
#include "now.h"
#include "ratelimit.h"
#include "server.h"
#include "signals.h"
#include "symbols.h"
#include "venue.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRAM "bookcast-sim"
#define MAX_FAULTS 32

typedef struct {
    const char *host, *ports[SIM_MARKETS], *markets, *cert, *key, *no_tls, *seed, *symbols;
    const char *book_rate, *trade_rate, *epoch_ms, *max_age_s, *ping_ms, *pong_ms;
    const char *shutdown_notice_ms, *load, *legacy, *truth, *truth_symbols, *faults;
    const char *conn_limit, *msg_rate, *weight_spot, *weight_futures, *queue_bytes;
} args_t;

/* Parses an integer option into *out within [min, max]; absent leaves *out. */
static int int_arg(const char *name, const char *text, long long min, long long max,
                   long long *out)
{
    if (!text)
        return 0;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno || v < min || v > max) {
        fprintf(stderr, PROGRAM ": --%s %s: expected an integer from %lld to %lld\n", name, text,
                min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_faults(const char *list, sim_fault_t *faults, size_t *count)
{
    *count = 0;
    if (!list)
        return 0;
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return -1;
    for (char *spec = strtok_r(copy, ";", &save); spec; spec = strtok_r(NULL, ";", &save)) {
        char err[200];
        if (*count == MAX_FAULTS) {
            fprintf(stderr, PROGRAM ": --faults: at most %d faults\n", MAX_FAULTS);
            free(copy);
            return -1;
        }
        if (sim_fault_parse_spec(spec, &faults[*count], err, sizeof err) != 0) {
            fprintf(stderr, PROGRAM ": --faults %s: %s\n", spec, err);
            free(copy);
            return -1;
        }
        if (!faults[*count].market_given)
            faults[*count].market = SIM_MARKET_ALL;
        (*count)++;
    }
    free(copy);
    return 0;
}

/* Every truth symbol must exist in some enabled market: a typo would leave a test checking
   nothing. */
static int check_truth_symbols(const char *list, const bool enabled[SIM_MARKETS],
                               size_t symbol_count, uint64_t seed)
{
    if (!list || !*list || strcmp(list, "ALL") == 0)
        return 0;
    char *copy = strdup(list), *save = NULL;
    int rc = copy ? 0 : -1;
    for (char *name = copy ? strtok_r(copy, ",", &save) : NULL; name && rc == 0;
         name = strtok_r(NULL, ",", &save)) {
        bool found = false;
        for (int m = 0; m < SIM_MARKETS && !found; m++) {
            if (!enabled[m])
                continue;
            sim_universe_t *u = sim_universe_new((market_t)(m + 1), symbol_count, seed);
            found = u && sim_universe_find(u, name);
            sim_universe_destroy(&u);
        }
        if (!found) {
            fprintf(stderr, PROGRAM ": --truth-symbols: %s is not a simulated symbol of any "
                    "enabled market (see GET /api/v3/exchangeInfo)\n", name);
            rc = -1;
        }
    }
    free(copy);
    return rc;
}

int main(int argc, char **argv)
{
    args_t a = {0};
    const cli_option_t options[] = {
        {"host", "ADDR", "listen address (default 127.0.0.1)", &a.host},
        {"spot-port", "PORT", "spot listener (default 7443; 0 disables)", &a.ports[0]},
        {"usdm-port", "PORT", "USD-M listener (default 7444; 0 disables)", &a.ports[1]},
        {"coinm-port", "PORT", "COIN-M listener (default 7445; 0 disables)", &a.ports[2]},
        {"markets", "LIST", "markets to serve: spot,usdm,coinm (default all three)", &a.markets},
        {"cert", "FILE", "PEM server certificate chain (required with TLS)", &a.cert},
        {"key", "FILE", "PEM private key of the certificate", &a.key},
        {"no-tls", NULL, "serve plain ws:// and http:// (debugging only)", &a.no_tls},
        {"seed", "N", "market seed: same seed and options, same streams (default 1)", &a.seed},
        {"symbols", "N", "symbols per market, 1..10000 (default 10)", &a.symbols},
        {"book-rate", "N", "book updates per second per symbol (default 20)", &a.book_rate},
        {"trade-rate", "N", "taker orders per second per symbol (default 2)", &a.trade_rate},
        {"epoch-ms", "MS", "wall time of logical time 0 in E/T fields (default: start time)",
         &a.epoch_ms},
        {"max-age-s", "S", "connection age cut, like Binance's 24 h (default 86400)",
         &a.max_age_s},
        {"ping-interval-ms", "MS", "server ping interval (default spot 20000, futures 180000)",
         &a.ping_ms},
        {"pong-timeout-ms", "MS", "close a connection this long without a pong (default spot "
         "60000, futures 600000)", &a.pong_ms},
        {"shutdown-notice-ms", "MS", "spot serverShutdown this long before the age cut "
         "(default 10000)", &a.shutdown_notice_ms},
        {"load", NULL, "load mode: logical time runs as fast as clients read", &a.load},
        {"legacy-format", NULL, "render exactly like the 2024 captures (no st, ps, nq, ap)",
         &a.legacy},
        {"truth", "FILE", "write the truth symbols' books and updates here (JSON lines)",
         &a.truth},
        {"truth-symbols", "LIST", "symbols with a long history for /_sim/book and --truth "
         "(comma list or ALL; default BTCUSDT,BTCUSD_PERP)", &a.truth_symbols},
        {"faults", "LIST", "scheduled faults, ';'-separated: name[:key=value&...] (docs/sim.md)",
         &a.faults},
        {"conn-limit", "N", "WebSocket connection attempts per address per 5 min (default 300)",
         &a.conn_limit},
        {"msg-rate-limit", "N", "incoming messages per second per connection (default spot 5, "
         "futures 10)", &a.msg_rate},
        {"weight-limit-spot", "N", "spot REST weight per minute (default 6000)", &a.weight_spot},
        {"weight-limit-futures", "N", "USD-M + COIN-M shared REST weight per minute (default "
         "2400)", &a.weight_futures},
        {"queue-limit-bytes", "N", "disconnect a client this far behind (default 64 MiB)",
         &a.queue_bytes},
        {0},
    };
    const cli_spec_t spec = {PROGRAM,
                             "An offline Binance (Spot, USD-M, COIN-M market data over TLS "
                             "WebSocket and REST) with a seeded market, faults and a truth dump.",
                             options};
    config_t *cfg = NULL;
    int rc = cli_start(&spec, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    cli_open_log(PROGRAM, cfg);

    sim_server_options_t so;
    sim_server_options_default(&so);
    long long seed = 1, symbols = 10, book_rate = 0, trade_rate = 0;
    long long epoch_ms = now_realtime_ns() / 1000000;
    long long max_age_s = so.max_connection_age_ms / 1000, ping_ms = -1, pong_ms = -1;
    long long msg_rate = 0;
    long long notice_ms = so.shutdown_notice_ms, conn_limit = 0, queue_bytes =
                                                                     (long long)so.max_queued_bytes;
    long long weight_spot = SIM_RESTWEIGHT_SPOT_LIMIT, weight_futures =
                                                           SIM_RESTWEIGHT_FUTURES_LIMIT;
    long long ports[SIM_MARKETS] = {so.ports[0], so.ports[1], so.ports[2]};
    static const char *const port_names[SIM_MARKETS] = {"spot-port", "usdm-port", "coinm-port"};
    bool ok = true;
    for (int m = 0; m < SIM_MARKETS; m++)
        ok &= int_arg(port_names[m], a.ports[m], 0, 65535, &ports[m]) == 0;
    ok &= int_arg("seed", a.seed, 0, INT64_MAX, &seed) == 0;
    ok &= int_arg("symbols", a.symbols, 1, SIM_UNIVERSE_MAX, &symbols) == 0;
    ok &= int_arg("book-rate", a.book_rate, 0, 100000, &book_rate) == 0;
    ok &= int_arg("trade-rate", a.trade_rate, 0, 100000, &trade_rate) == 0;
    ok &= int_arg("epoch-ms", a.epoch_ms, 0, INT64_MAX / 4, &epoch_ms) == 0;
    ok &= int_arg("max-age-s", a.max_age_s, 1, 7 * 86400, &max_age_s) == 0;
    ok &= int_arg("ping-interval-ms", a.ping_ms, 100, 3600000, &ping_ms) == 0;
    ok &= int_arg("pong-timeout-ms", a.pong_ms, 100, 3600000, &pong_ms) == 0;
    ok &= int_arg("shutdown-notice-ms", a.shutdown_notice_ms, 0, 3600000, &notice_ms) == 0;
    ok &= int_arg("conn-limit", a.conn_limit, 0, 1000000, &conn_limit) == 0;
    ok &= int_arg("msg-rate-limit", a.msg_rate, 1, SIM_MSGRATE_MAX, &msg_rate) == 0;
    ok &= int_arg("weight-limit-spot", a.weight_spot, 1, 10000000, &weight_spot) == 0;
    ok &= int_arg("weight-limit-futures", a.weight_futures, 1, 10000000, &weight_futures) == 0;
    ok &= int_arg("queue-limit-bytes", a.queue_bytes, 4096, 1LL << 34, &queue_bytes) == 0;

    bool enabled[SIM_MARKETS] = {true, true, true};
    if (a.markets) {
        for (int m = 0; m < SIM_MARKETS; m++)
            enabled[m] = false;
        char *copy = strdup(a.markets), *save = NULL;
        for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
             t = strtok_r(NULL, ",", &save)) {
            market_t m;
            if (market_parse(t, &m) != 0) {
                fprintf(stderr, PROGRAM ": --markets: unknown market \"%s\" (spot, usdm, coinm)\n",
                        t);
                ok = false;
            } else {
                enabled[m - 1] = true;
            }
        }
        free(copy);
    }
    bool tls = !a.no_tls;
    if (tls && (!a.cert || !a.key)) {
        fprintf(stderr, PROGRAM ": TLS needs --cert and --key (sim/make-certs.sh DIR makes a "
                "throwaway pair), or --no-tls for debugging\n");
        ok = false;
    }
    sim_fault_t faults[MAX_FAULTS];
    size_t fault_count = 0;
    ok &= parse_faults(a.faults, faults, &fault_count) == 0;
    const char *truth_symbols = a.truth_symbols ? a.truth_symbols : "BTCUSDT,BTCUSD_PERP";
    if (ok && a.truth_symbols)
        ok &= check_truth_symbols(truth_symbols, enabled, (size_t)symbols, (uint64_t)seed) == 0;
    if (!ok) {
        config_destroy(&cfg);
        return CLI_EXIT_USAGE;
    }

    FILE *truth = NULL;
    if (a.truth && !(truth = fopen(a.truth, "w"))) {
        log_error("sim: cannot write the truth file %s: %s", a.truth, strerror(errno));
        config_destroy(&cfg);
        return 1;
    }
    sim_restweight_config_t wc;
    sim_restweight_config_default(&wc);
    wc.limit_per_min[0] = (unsigned)weight_spot;
    wc.limit_per_min[1] = wc.limit_per_min[2] = (unsigned)weight_futures;
    sim_restweight_t *weights = sim_restweight_new(&wc);
    sim_venue_t *venues[SIM_MARKETS] = {NULL, NULL, NULL};
    rc = weights ? 0 : 1;
    for (int m = 0; m < SIM_MARKETS && rc == 0; m++) {
        if (!enabled[m] || ports[m] == 0)
            continue;
        sim_venue_options_t vo = {
            .market = (market_t)(m + 1),
            .symbol_count = (size_t)symbols,
            .seed = (uint64_t)seed,
            .epoch_ms = epoch_ms,
            .book_updates_per_s = (uint32_t)book_rate,
            .trades_per_s = (uint32_t)trade_rate,
            .legacy_fields = a.legacy != NULL,
            .weights = weights,
            .truth_symbols = truth_symbols,
            .truth_file = truth,
        };
        venues[m] = sim_venue_new(&vo);
        if (!venues[m])
            rc = 1;
    }
    so.host = a.host ? a.host : "127.0.0.1";
    so.tls = tls;
    so.cert_file = a.cert;
    so.key_file = a.key;
    for (int m = 0; m < SIM_MARKETS; m++) {
        so.ports[m] = (int)ports[m];
        so.venues[m] = venues[m];
        if (ping_ms > 0)
            so.ping_interval_ms[m] = ping_ms;
        if (pong_ms > 0)
            so.pong_timeout_ms[m] = pong_ms;
    }
    so.max_connection_age_ms = max_age_s * 1000;
    so.shutdown_notice_ms = notice_ms;
    so.max_queued_bytes = (size_t)queue_bytes;
    so.load_mode = a.load != NULL;
    so.faults = faults;
    so.fault_count = fault_count;
    so.conn_attempts_per_5min = (unsigned)conn_limit;
    so.msg_rate_limit = (unsigned)msg_rate;

    sim_server_t *server = NULL;
    if (rc == 0 && signals_install() != 0) {
        log_error("sim: cannot install signal handlers: %s", strerror(errno));
        rc = 1;
    }
    if (rc == 0 && !(server = sim_server_new(&so)))
        rc = 1;
    if (rc == 0) {
        log_info("sim: seed %lld, %lld symbols per market, epoch %lld, %s%s", seed, symbols,
                 epoch_ms, so.load_mode ? "load mode" : "real time",
                 truth ? ", writing the truth file" : "");
        sim_server_run(server);
        log_info("sim: stopping (%s)", signals_stop_requested() ? "signal" : "stopped");
    }
    sim_server_destroy(&server);
    for (int m = 0; m < SIM_MARKETS; m++)
        sim_venue_destroy(&venues[m]);
    sim_restweight_destroy(&weights);
    if (truth && fclose(truth) != 0) {
        log_error("sim: the truth file %s could not be completed: %s", a.truth, strerror(errno));
        rc = 1;
    }
    config_destroy(&cfg);
    log_close();
    return rc;
}

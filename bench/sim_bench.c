/*
 * sim_bench.c — how fast bookcast-sim serves, and what it costs.
 *
 * Usage: bookcast-sim-bench <results file> [seconds [throughput|scale]]
 *
 * Two figures, each with a real bookcast-sim process over TLS on loopback and this program as
 * its only client (counting frames, never parsing them, so the client is not the bottleneck):
 *   throughput  load mode (logical time runs as fast as the client reads), USD-M, 20 symbols'
 *               @depth@0ms on one connection: depth events per second delivered, and the sim's
 *               CPU while doing it;
 *   scale       real time, 2000 symbols in each of the three markets at the default rates, every
 *               symbol's @depth@100ms subscribed (two connections of 1000 streams per market):
 *               the sim's CPU as a share of one core, and frames per second delivered.
 * CPU is read from /proc/<pid>/stat (utime + stime) over the measured window.
 */
#include "simproc.h"
#include "symbols.h"

#include <libwebsockets.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 8
#define SUBSCRIBE_MAX 65536

typedef struct {
    struct lws *wsi;
    char subscribe[SUBSCRIBE_MAX]; /* sent once on open; "" for none */
    bool sent;
    bool open;
    bool ended;
} bench_conn_t;

typedef struct {
    bench_conn_t conns[MAX_CONNS];
    int conn_count;
    uint64_t frames;
    uint64_t bytes;
} bench_t;

static bench_t bench;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* utime + stime of a process, in clock ticks. */
static long long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    long long utime = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &utime,
                     &stime) != 2)
        return -1;
    return utime + stime;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    (void)user;
    (void)in;
    bench_conn_t *c = lws_get_opaque_user_data(wsi);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (c) {
            c->open = true;
            if (c->subscribe[0])
                lws_callback_on_writable(wsi);
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c && !c->sent && c->subscribe[0]) {
            static unsigned char buf[LWS_PRE + SUBSCRIBE_MAX];
            size_t n = strlen(c->subscribe);
            memcpy(buf + LWS_PRE, c->subscribe, n);
            c->sent = true;
            if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
                return -1;
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        bench.bytes += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
            bench.frames++;
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fprintf(stderr, "sim-bench: connection error: %s\n", in ? (const char *)in : "?");
        if (c)
            c->ended = true;
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c)
            c->ended = true;
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"bench", callback, 0, 1 << 16, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static struct lws_context *context_new(const char *ca)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = ca;
    lws_set_log_level(LLL_ERR, NULL);
    return lws_create_context(&info);
}

static int connect_one(struct lws_context *ctx, int port, const char *path, bench_conn_t *c)
{
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = "127.0.0.1";
    ci.port = port;
    ci.path = path;
    ci.host = "localhost";
    ci.origin = "localhost";
    ci.ssl_connection = LCCSCF_USE_SSL;
    ci.protocol = NULL;
    ci.opaque_user_data = c;
    ci.pwsi = &c->wsi;
    return lws_client_connect_via_info(&ci) ? 0 : -1;
}

/* Services until every connection opened (or `timeout_ms`). */
static int wait_open(struct lws_context *ctx, int timeout_ms)
{
    int64_t end = mono_ns() + (int64_t)timeout_ms * 1000000;
    while (mono_ns() < end) {
        int open = 0;
        for (int i = 0; i < bench.conn_count; i++) {
            if (bench.conns[i].ended)
                return -1;
            open += bench.conns[i].open && (!bench.conns[i].subscribe[0] || bench.conns[i].sent);
        }
        if (open == bench.conn_count)
            return 0;
        lws_service(ctx, 10);
    }
    return -1;
}

typedef struct {
    double seconds;
    uint64_t frames, bytes;
    double sim_cpu_share; /* of one core */
} measure_t;

static measure_t measure(struct lws_context *ctx, pid_t sim, int seconds)
{
    long hz = sysconf(_SC_CLK_TCK);
    uint64_t f0 = bench.frames, b0 = bench.bytes;
    long long c0 = cpu_ticks(sim);
    int64_t t0 = mono_ns(), end = t0 + (int64_t)seconds * 1000000000;
    while (mono_ns() < end)
        lws_service(ctx, 10);
    measure_t m;
    m.seconds = (double)(mono_ns() - t0) / 1e9;
    m.frames = bench.frames - f0;
    m.bytes = bench.bytes - b0;
    m.sim_cpu_share = (double)(cpu_ticks(sim) - c0) / (double)hz / m.seconds;
    return m;
}

static int run_throughput(FILE *out, int seconds)
{
    const char *args[] = {"--load", "--markets", "usdm", "--symbols", "20", "--epoch-ms",
                          "1700000000000", NULL};
    simproc_t *sim = simproc_start(args);
    if (!sim)
        return -1;
    sim_universe_t *u = sim_universe_new(MARKET_USDM, 20, 1);
    char path[2048] = "/public/stream?streams=";
    for (size_t i = 0; u && i < 20; i++) {
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, "%s%s@depth@0ms", i ? "/" : "",
                 sim_universe_get(u, i)->lower);
    }
    sim_universe_destroy(&u);
    memset(&bench, 0, sizeof bench);
    struct lws_context *ctx = context_new(simproc_ca(sim));
    bench.conn_count = 1;
    int rc = -1;
    if (ctx && connect_one(ctx, simproc_port(sim, MARKET_USDM), path, &bench.conns[0]) == 0 &&
        wait_open(ctx, 5000) == 0) {
        measure(ctx, simproc_pid(sim), 2); /* warm up */
        measure_t m = measure(ctx, simproc_pid(sim), seconds);
        fprintf(out,
                "throughput: %.0f depth events/s over TLS to one client (USD-M @depth@0ms, 20 "
                "symbols, load mode), %.1f MB/s, sim CPU %.0f%% of one core, %" PRIu64
                " frames in %.1f s\n",
                (double)m.frames / m.seconds, (double)m.bytes / m.seconds / 1e6,
                m.sim_cpu_share * 100, m.frames, m.seconds);
        rc = 0;
    } else {
        fprintf(stderr, "sim-bench: throughput client did not connect\n");
    }
    if (ctx)
        lws_context_destroy(ctx);
    simproc_stop(&sim);
    return rc;
}

static int run_scale(FILE *out, int seconds)
{
    const char *args[] = {"--symbols", "2000", NULL};
    simproc_t *sim = simproc_start(args);
    if (!sim)
        return -1;
    memset(&bench, 0, sizeof bench);
    struct lws_context *ctx = context_new(simproc_ca(sim));
    int rc = ctx ? 0 : -1;
    /* Idle: 6000 engines running, nobody subscribed. */
    measure_t idle = {0};
    if (rc == 0)
        idle = measure(ctx, simproc_pid(sim), seconds / 2 > 0 ? seconds / 2 : 1);
    static const market_t markets[3] = {MARKET_SPOT, MARKET_USDM, MARKET_COINM};
    for (int mk = 0; mk < 3 && rc == 0; mk++) {
        sim_universe_t *u = sim_universe_new(markets[mk], 2000, 1);
        for (int half = 0; half < 2 && u; half++) {
            bench_conn_t *c = &bench.conns[bench.conn_count++];
            int n = snprintf(c->subscribe, sizeof c->subscribe,
                             "{\"method\":\"SUBSCRIBE\",\"id\":1,\"params\":[");
            for (size_t i = (size_t)half * 1000; i < (size_t)half * 1000 + 1000; i++)
                n += snprintf(c->subscribe + n, sizeof c->subscribe - (size_t)n, "%s\"%s@depth@100ms\"",
                              i % 1000 ? "," : "", sim_universe_get(u, i)->lower);
            snprintf(c->subscribe + n, sizeof c->subscribe - (size_t)n, "]}");
            const char *path = markets[mk] == MARKET_USDM ? "/public/stream" : "/stream";
            if (connect_one(ctx, simproc_port(sim, markets[mk]), path, c) != 0)
                rc = -1;
        }
        sim_universe_destroy(&u);
    }
    if (rc == 0 && wait_open(ctx, 10000) == 0) {
        measure(ctx, simproc_pid(sim), 3); /* warm up */
        measure_t m = measure(ctx, simproc_pid(sim), seconds);
        fprintf(out,
                "scale: 2000 symbols x 3 markets at default rates (20 book updates/s, 2 taker "
                "orders/s per symbol): sim CPU %.0f%% of one core with every @depth@100ms "
                "subscribed (%.0f frames/s, %.1f MB/s over 6 TLS connections), %.0f%% with "
                "nothing subscribed\n",
                m.sim_cpu_share * 100, (double)m.frames / m.seconds,
                (double)m.bytes / m.seconds / 1e6, idle.sim_cpu_share * 100);
    } else {
        fprintf(stderr, "sim-bench: scale clients did not connect\n");
        rc = -1;
    }
    if (ctx)
        lws_context_destroy(ctx);
    simproc_stop(&sim);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bookcast-sim-bench <results file> [seconds [throughput|scale]]\n");
        return 2;
    }
    int seconds = argc > 2 ? atoi(argv[2]) : 10;
    if (seconds < 1)
        seconds = 10;
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    const char *only = argc > 3 ? argv[3] : "";
    int rc = 0;
    if (strcmp(only, "scale") != 0)
        rc |= run_throughput(out, seconds);
    fflush(out);
    if (strcmp(only, "throughput") != 0)
        rc |= run_scale(out, seconds);
    fclose(out);
    return rc ? 1 : 0;
}

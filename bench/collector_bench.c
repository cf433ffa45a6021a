/*
 * collector_bench.c — what one collector forwards, and what it costs, from the sim to PUSH.
 *
 * Usage: bookcast-collector-bench <results file> [seconds [throughput|scale]]
 *
 * A real bookcast-sim and a real bookcast-collector, the collector's frames taken by a ZeroMQ
 * PULL socket in this program (counting frames and bytes, decoding nothing, so the reader is
 * never the bottleneck):
 *   throughput  the sim in load mode (it sends as fast as the collector reads), USD-M, 20
 *               symbols' @depth@0ms: frames per second arriving at PULL, the collector's CPU as
 *               a share of one core, and its CPU time per frame;
 *   scale       the sim in real time with 2000 spot symbols at its default rates, the collector
 *               following all of them ("ALL") with the default channels (@depth@100ms, @trade,
 *               @bookTicker, @kline_1m: 8000 streams): the collector's CPU share and frames/s;
 *               and the same with the depth stream alone.
 * CPU is utime + stime from /proc/<pid>/stat over the measured window.
 */
#include "collectorproc.h"
#include "simproc.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

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
    const char *p = strrchr(buf, ')');
    long long utime = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &utime,
                     &stime) != 2)
        return -1;
    return utime + stime;
}

typedef struct {
    double seconds, cpu_share;
    uint64_t frames, bytes;
} measure_t;

/* Counts what arrives on `pull` for `seconds`. */
static measure_t measure(zsock_t *pull, pid_t collector, int seconds)
{
    void *raw = zsock_resolve(pull);
    long hz = sysconf(_SC_CLK_TCK);
    measure_t m = {0};
    long long c0 = cpu_ticks(collector);
    int64_t t0 = mono_ns(), end = t0 + (int64_t)seconds * 1000000000;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (mono_ns() < end) {
        zmq_pollitem_t item = {raw, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 50) <= 0)
            continue;
        while (zmq_msg_recv(&msg, raw, ZMQ_DONTWAIT) >= 0) {
            m.frames++;
            m.bytes += zmq_msg_size(&msg);
        }
    }
    zmq_msg_close(&msg);
    m.seconds = (double)(mono_ns() - t0) / 1e9;
    m.cpu_share = (double)(cpu_ticks(collector) - c0) / (double)hz / m.seconds;
    return m;
}

static void drain(zsock_t *pull, pid_t collector, int seconds)
{
    measure(pull, collector, seconds);
}

/* A loopback port nobody listens on, for the collector's control and status sockets (the bench
   binds neither: the collector only connects to them). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Runs one configuration: sim with sim_args, collector with sets; warm-up, then measure. */
static int run(FILE *out, const char *label, market_t market, const char *const *sim_args,
               const char *const *sets, int warmup_s, int seconds)
{
    simproc_t *sim = simproc_start(sim_args);
    if (!sim)
        return -1;
    char frames[64], control[64], status[64];
    zsock_t *pull = zsock_new(ZMQ_PULL);
    int port = -1;
    if (pull) {
        zsock_set_rcvhwm(pull, 100000);
        port = zsock_bind(pull, "tcp://127.0.0.1:*");
    }
    if (port < 0) {
        fprintf(stderr, "collector-bench: cannot bind a PULL socket: %s\n", zmq_strerror(errno));
        zsock_destroy(&pull);
        simproc_stop(&sim);
        return -1;
    }
    snprintf(frames, sizeof frames, "tcp://127.0.0.1:%d", port);
    snprintf(control, sizeof control, "tcp://127.0.0.1:%d", free_port());
    snprintf(status, sizeof status, "tcp://127.0.0.1:%d", free_port());
    collectorproc_opts_t opts = {
        .sim = sim, .market = market, .frames = frames, .control = control, .status = status,
        .sets = sets,
    };
    collectorproc_t *col = collectorproc_start(&opts);
    if (!col)
        fprintf(stderr, "collector-bench: the collector did not start\n");
    int rc = -1;
    if (col) {
        drain(pull, collectorproc_pid(col), warmup_s);
        measure_t m = measure(pull, collectorproc_pid(col), seconds);
        double fps = (double)m.frames / m.seconds;
        fprintf(out,
                "%s: %.0f frames/s to PUSH, %.1f MB/s, collector CPU %.1f%% of one core, "
                "%.2f us CPU per frame (%" PRIu64 " frames in %.1f s)\n",
                label, fps, (double)m.bytes / m.seconds / 1e6, m.cpu_share * 100,
                fps > 0 ? m.cpu_share * 1e6 / fps : 0.0, m.frames, m.seconds);
        fflush(out);
        rc = 0;
        collectorproc_destroy(&col);
    }
    zsock_destroy(&pull);
    simproc_stop(&sim);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bookcast-collector-bench <results file> [seconds "
                        "[throughput|scale]]\n");
        return 2;
    }
    int seconds = argc > 2 ? atoi(argv[2]) : 10;
    if (seconds < 1)
        seconds = 10;
    const char *only = argc > 3 ? argv[3] : "";
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    zsys_handler_set(NULL);
    int rc = 0;
    if (strcmp(only, "scale") != 0) {
        const char *sim_args[] = {"--load", "--markets", "usdm", "--symbols", "20", NULL};
        const char *sets[] = {
            "markets.usdm.symbols=ALL",
            "markets.usdm.channels.depth_speed_ms=0",
            "markets.usdm.channels.agg_trade=false",
            "markets.usdm.channels.book_ticker=false",
            "markets.usdm.channels.kline_intervals=[]",
            "collector.queue_max_bytes=268435456",
            NULL,
        };
        rc |= run(out, "throughput (USD-M @depth@0ms, 20 symbols, sim in load mode)",
                  MARKET_USDM, sim_args, sets, 3, seconds);
    }
    if (strcmp(only, "throughput") != 0) {
        const char *sim_args[] = {"--markets", "spot", "--symbols", "2000", NULL};
        const char *sets[] = {"markets.spot.symbols=ALL", NULL};
        rc |= run(out,
                  "scale (2000 spot symbols, default channels: depth@100ms, trade, bookTicker, "
                  "kline_1m = 8000 streams, sim default rates)",
                  MARKET_SPOT, sim_args, sets, 8, seconds);
        const char *depth_only[] = {"markets.spot.symbols=ALL",
                                    "markets.spot.channels.trade=false",
                                    "markets.spot.channels.book_ticker=false",
                                    "markets.spot.channels.kline_intervals=[]", NULL};
        rc |= run(out, "scale, depth only (2000 spot symbols @depth@100ms)", MARKET_SPOT,
                  sim_args, depth_only, 8, seconds);
    }
    fclose(out);
    return rc ? 1 : 0;
}

/*
 * simproc.c — start and stop a real bookcast-sim for a test (see simproc.h): the sim's
 * certificate, ports, arguments and readiness line; the process itself is a testproc.
 *
 * Ports: three consecutive free ports from a random base in 20000…59999, each checked by binding
 * it first; several test programs may run at once under ctest -j, so fixed ports would collide.
 * Readiness: the sim's "sim: seed" log line, written once its listeners are bound. Certificates:
 * sim/make-certs.sh, once per simproc (fast: P-256 keys).
 */
#include "simproc.h"

#include "testproc.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 30000 /* generous: ctest -j runs sims side by side, under ASan too */
#define STOP_TIMEOUT_MS 5000
#define ARGS_MAX 64
#define READY_LINE "sim: seed "

struct simproc {
    testproc_t *proc;
    int ports[3];
    char ca[300];
};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int pick_ports(int ports[3])
{
    unsigned seed = (unsigned)getpid() ^ (unsigned)mono_ms();
    for (int attempt = 0; attempt < 200; attempt++) {
        int base = 20000 + (int)(rand_r(&seed) % 40000);
        if (testproc_port_free(base) && testproc_port_free(base + 1) &&
            testproc_port_free(base + 2)) {
            for (int i = 0; i < 3; i++)
                ports[i] = base + i;
            return 0;
        }
    }
    return -1;
}

static int make_certs(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "'%s/sim/make-certs.sh' '%s' >/dev/null", BOOKCAST_SOURCE_DIR, dir);
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

simproc_t *simproc_start(const char *const *extra)
{
    static const testproc_opts_t sim = {
        .program = "bookcast-sim",
        .log_name = "sim.log",
        /* The test's working directory and environment, but not a config file the environment
           names: that must not change the sim under test. */
        .env_drop = "BOOKCAST_CONFIG=",
        .run_in_dir = false,
    };
    char *dir = testproc_make_dir("/tmp/bookcast-simtest");
    testproc_t *proc = dir ? testproc_new(&sim, dir) : NULL;
    if (!proc)
        return NULL;
    simproc_t *self = calloc(1, sizeof *self);
    if (!self) {
        testproc_destroy(&proc);
        return NULL;
    }
    self->proc = proc;
    const char *home = testproc_dir(proc);
    snprintf(self->ca, sizeof self->ca, "%s/ca.pem", home);
    if (make_certs(home) != 0 || pick_ports(self->ports) != 0) {
        fprintf(stderr, "simproc: no certificate or no free ports\n");
        simproc_stop(&self);
        return NULL;
    }
    char cert[300], key[300], p[3][16];
    snprintf(cert, sizeof cert, "%s/server.pem", home);
    snprintf(key, sizeof key, "%s/server.key", home);
    const char *argv[ARGS_MAX];
    int n = 0;
    argv[n++] = BOOKCAST_SIM_BIN;
    argv[n++] = "--cert";
    argv[n++] = cert;
    argv[n++] = "--key";
    argv[n++] = key;
    static const char *const port_opts[3] = {"--spot-port", "--usdm-port", "--coinm-port"};
    for (int i = 0; i < 3; i++) {
        snprintf(p[i], sizeof p[i], "%d", self->ports[i]);
        argv[n++] = port_opts[i];
        argv[n++] = p[i];
    }
    for (int i = 0; extra && extra[i] && n < ARGS_MAX - 1; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    if (testproc_start(self->proc, argv) != 0) {
        simproc_stop(&self);
        return NULL;
    }
    if (!testproc_wait_ready(self->proc, READY_LINE, START_TIMEOUT_MS)) {
        testproc_terminate(self->proc, STOP_TIMEOUT_MS, NULL);
        testproc_report(self->proc);
        simproc_stop(&self);
        return NULL;
    }
    return self;
}

int simproc_stop(simproc_t **self_p)
{
    if (!self_p || !*self_p)
        return 0;
    simproc_t *self = *self_p;
    int rc = testproc_terminate(self->proc, STOP_TIMEOUT_MS, NULL);
    testproc_destroy(&self->proc);
    free(self);
    *self_p = NULL;
    return rc;
}

bool simproc_alive(simproc_t *self)
{
    return testproc_alive(self->proc);
}

int simproc_port(const simproc_t *self, market_t market)
{
    return market >= MARKET_SPOT && market <= MARKET_COINM ? self->ports[market - 1] : 0;
}

const char *simproc_ca(const simproc_t *self)
{
    return self->ca;
}

const char *simproc_dir(const simproc_t *self)
{
    return testproc_dir(self->proc);
}

pid_t simproc_pid(const simproc_t *self)
{
    return testproc_pid(self->proc);
}

const char *simproc_url(const simproc_t *self, market_t market, bool http, const char *path,
                        char *buf, size_t len)
{
    snprintf(buf, len, "%s://127.0.0.1:%d%s", http ? "https" : "wss", simproc_port(self, market),
             path);
    return buf;
}

int simproc_log_count(const simproc_t *self, const char *needle)
{
    return testproc_log_count(self->proc, needle);
}

/*
 * collectorproc.c — start, signal and stop a real bookcast-collector for a test (see
 * collectorproc.h): the collector's arguments and readiness line; the process itself is a
 * testproc.
 *
 * Readiness is the collector's "started, instance" log line, written once its sockets exist; the
 * test then waits for frames with bounded waits of its own.
 */
#include "collectorproc.h"

#include "testproc.h"

#include <stdio.h>
#include <stdlib.h>

#define START_TIMEOUT_MS 10000
#define DESTROY_WAIT_MS 4000
#define ARGS_MAX 160
#define READY_LINE "started, instance"

struct collectorproc {
    testproc_t *proc;
};

char *collectorproc_make_dir(void)
{
    return testproc_make_dir("/tmp/bookcast-coltest");
}

collectorproc_t *collectorproc_start(const collectorproc_opts_t *opts)
{
    char *dir = collectorproc_make_dir();
    return dir ? collectorproc_start_in(opts, dir) : NULL;
}

collectorproc_t *collectorproc_start_in(const collectorproc_opts_t *opts, char *dir)
{
    static const testproc_opts_t collector = {
        .program = "bookcast-collector",
        .log_name = "collector.log",
        .env_drop = "BOOKCAST_",
        .run_in_dir = true, /* no config/ there: ./config/bookcast.json cannot be picked up */
    };
    testproc_t *proc = testproc_new(&collector, dir);
    if (!proc)
        return NULL;
    collectorproc_t *self = calloc(1, sizeof *self);
    if (!self) {
        testproc_destroy(&proc);
        return NULL;
    }
    self->proc = proc;

    const char *market = market_name(opts->market);
    char sets[8][700];
    int port = simproc_port(opts->sim, opts->market);
    snprintf(sets[0], sizeof sets[0], "markets.%s.ws_url=wss://127.0.0.1:%d", market, port);
    snprintf(sets[1], sizeof sets[1], "markets.%s.rest_url=https://127.0.0.1:%d", market, port);
    snprintf(sets[2], sizeof sets[2], "markets.%s.ca_file=%s", market, simproc_ca(opts->sim));
    snprintf(sets[3], sizeof sets[3], "bus.frames=%s", opts->frames);
    snprintf(sets[4], sizeof sets[4], "bus.control=%s", opts->control);
    snprintf(sets[5], sizeof sets[5], "bus.status=%s", opts->status);
    const char *argv[ARGS_MAX];
    int n = 0;
    argv[n++] = BOOKCAST_COLLECTOR_BIN;
    argv[n++] = "--market";
    argv[n++] = market;
    if (opts->config_file) {
        argv[n++] = "--config";
        argv[n++] = opts->config_file;
    }
    for (int i = 0; i < 6; i++) {
        argv[n++] = "--set";
        argv[n++] = sets[i];
    }
    for (int i = 0; opts->sets && opts->sets[i]; i++) {
        if (n >= ARGS_MAX - 3) {
            fprintf(stderr, "collectorproc: too many --set options\n");
            collectorproc_destroy(&self);
            return NULL;
        }
        argv[n++] = "--set";
        argv[n++] = opts->sets[i];
    }
    argv[n] = NULL;
    if (testproc_start(self->proc, argv) != 0 ||
        (!opts->no_wait && !testproc_wait_ready(self->proc, READY_LINE, START_TIMEOUT_MS))) {
        collectorproc_destroy(&self);
        return NULL;
    }
    return self;
}

int collectorproc_terminate(collectorproc_t *self, int64_t wait_ms, int64_t *took_ms)
{
    return testproc_terminate(self->proc, wait_ms, took_ms);
}

void collectorproc_destroy(collectorproc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collectorproc_t *self = *self_p;
    testproc_terminate(self->proc, DESTROY_WAIT_MS, NULL);
    testproc_report(self->proc);
    testproc_destroy(&self->proc);
    free(self);
    *self_p = NULL;
}

int collectorproc_signal(collectorproc_t *self, int sig)
{
    return testproc_signal(self->proc, sig);
}

bool collectorproc_alive(collectorproc_t *self)
{
    return testproc_alive(self->proc);
}

pid_t collectorproc_pid(const collectorproc_t *self)
{
    return testproc_pid(self->proc);
}

const char *collectorproc_dir(const collectorproc_t *self)
{
    return testproc_dir(self->proc);
}

int collectorproc_log_count(const collectorproc_t *self, const char *needle)
{
    return testproc_log_count(self->proc, needle);
}

bool collectorproc_wait_log(const collectorproc_t *self, const char *needle, int n,
                            int64_t timeout_ms)
{
    return testproc_wait_log(self->proc, needle, n, timeout_ms);
}

void collectorproc_dump_log(const collectorproc_t *self, int lines)
{
    testproc_dump_log(self->proc, lines);
}

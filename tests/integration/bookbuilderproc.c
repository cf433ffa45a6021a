/*
 * bookbuilderproc.c — start, signal and stop a real bookcast-bookbuilder for a test (see
 * bookbuilderproc.h): the bookbuilder's arguments and readiness line; the process itself is a
 * testproc.
 *
 * Readiness is the "bookbuilder started" log line, written once every socket is bound.
 */
#include "bookbuilderproc.h"

#include "testproc.h"

#include <stdio.h>
#include <stdlib.h>

#define START_TIMEOUT_MS 10000
#define DESTROY_WAIT_MS 5000
#define ARGS_MAX 200
#define READY_LINE "bookbuilder started"

struct bookbuilderproc {
    testproc_t *proc;
};

bookbuilderproc_t *bookbuilderproc_start(const char *const *sets)
{
    static const testproc_opts_t bookbuilder = {
        .program = "bookcast-bookbuilder",
        .log_name = "bookbuilder.log",
        .env_drop = "BOOKCAST_",
        .run_in_dir = true, /* no config/ there: ./config/bookcast.json cannot be picked up */
    };
    char *dir = testproc_make_dir("/tmp/bookcast-bbtest");
    testproc_t *proc = dir ? testproc_new(&bookbuilder, dir) : NULL;
    if (!proc)
        return NULL;
    bookbuilderproc_t *self = calloc(1, sizeof *self);
    if (!self) {
        testproc_destroy(&proc);
        return NULL;
    }
    self->proc = proc;

    const char *argv[ARGS_MAX];
    int n = 0;
    argv[n++] = BOOKCAST_BOOKBUILDER_BIN;
    for (int i = 0; sets && sets[i]; i++) {
        if (n >= ARGS_MAX - 3) {
            fprintf(stderr, "bookbuilderproc: too many --set options\n");
            bookbuilderproc_destroy(&self);
            return NULL;
        }
        argv[n++] = "--set";
        argv[n++] = sets[i];
    }
    argv[n] = NULL;
    if (testproc_start(self->proc, argv) != 0 ||
        !testproc_wait_ready(self->proc, READY_LINE, START_TIMEOUT_MS)) {
        bookbuilderproc_destroy(&self);
        return NULL;
    }
    return self;
}

int bookbuilderproc_terminate(bookbuilderproc_t *self, int64_t wait_ms, int64_t *took_ms)
{
    return testproc_terminate(self->proc, wait_ms, took_ms);
}

void bookbuilderproc_destroy(bookbuilderproc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bookbuilderproc_t *self = *self_p;
    testproc_terminate(self->proc, DESTROY_WAIT_MS, NULL);
    testproc_report(self->proc);
    testproc_destroy(&self->proc);
    free(self);
    *self_p = NULL;
}

bool bookbuilderproc_alive(bookbuilderproc_t *self)
{
    return testproc_alive(self->proc);
}

pid_t bookbuilderproc_pid(const bookbuilderproc_t *self)
{
    return testproc_pid(self->proc);
}

const char *bookbuilderproc_dir(const bookbuilderproc_t *self)
{
    return testproc_dir(self->proc);
}

int bookbuilderproc_log_count(const bookbuilderproc_t *self, const char *needle)
{
    return testproc_log_count(self->proc, needle);
}

void bookbuilderproc_dump_log(const bookbuilderproc_t *self, int lines)
{
    testproc_dump_log(self->proc, lines);
}

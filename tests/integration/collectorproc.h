/*
 * collectorproc.h — a real bookcast-collector process for one integration test: started for one
 * market against a simproc sim, pointed at a fake bookbuilder's endpoints, signalled and stopped
 * by pid, its log read back.
 *
 * The collector under test sees only what the test gives it: it runs in its own temporary
 * directory (no config/ there), with every BOOKCAST_* variable removed from its environment, so
 * neither a developer's config/bookcast.json nor their environment can change what is tested.
 * Its configuration is the defaults, the optional --config file, and the --set options: the
 * sim's URLs and CA, the three bus endpoints and the test's own. Its stderr (the log) goes to
 * <dir>/collector.log. The test binary needs the compile definition BOOKCAST_COLLECTOR_BIN.
 */
#ifndef BOOKCAST_COLLECTORPROC_H
#define BOOKCAST_COLLECTORPROC_H

#include "envelope.h" /* market_t */
#include "simproc.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct collectorproc collectorproc_t;

typedef struct {
    const simproc_t *sim;    /* its ws_url, rest_url and ca_file are set to this sim's */
    market_t market;         /* --market */
    const char *frames;      /* bus.frames endpoint ("tcp://127.0.0.1:…") */
    const char *control;     /* bus.control */
    const char *status;      /* bus.status */
    const char *const *sets; /* further "key=value" assignments, NULL-terminated (may be NULL) */
    const char *config_file; /* --config FILE, or NULL for none */
    bool no_wait;            /* do not wait for the "started" log line */
} collectorproc_opts_t;

/* Creates the temporary directory, starts the collector in it and waits (up to 10 s) until it
   logs that it started. NULL (with the reason and the log on stderr) when it could not start or
   exited. The options' strings are copied. */
collectorproc_t *collectorproc_start(const collectorproc_opts_t *opts);

/* A directory made for a collector before it starts (to write its --config file into), for
   collectorproc_start_in. The caller owns the string (free). NULL on failure. */
char *collectorproc_make_dir(void);
/* collectorproc_start in `dir` (taken over: removed at destroy). */
collectorproc_t *collectorproc_start_in(const collectorproc_opts_t *opts, char *dir);

/* SIGTERM, then waits up to wait_ms for the exit (then SIGKILL). Returns the exit status
   (0…255), or -1 when it had to be killed or died by a signal; *took_ms (may be NULL) is the time
   from the signal to the exit. After the first call, returns the same status again. */
int collectorproc_terminate(collectorproc_t *self, int64_t wait_ms, int64_t *took_ms);

/* Terminates it if it still runs (4 s grace), removes its directory (unless
   KEEP_TEST_DIRS is set), frees. Writes the end of its log to stderr first (ctest shows
   it only for a failing test). NULL-safe. */
void collectorproc_destroy(collectorproc_t **self_p);

/* Sends `sig` (SIGHUP for a reload). Returns 0, or -1 when it has exited. */
int collectorproc_signal(collectorproc_t *self, int sig);

/* True while the process runs. */
bool collectorproc_alive(collectorproc_t *self);
pid_t collectorproc_pid(const collectorproc_t *self);
/* Its temporary directory (working directory; the log is there). */
const char *collectorproc_dir(const collectorproc_t *self);

/* Lines of its log holding `needle`. */
int collectorproc_log_count(const collectorproc_t *self, const char *needle);
/* Waits up to timeout_ms until at least `n` lines hold `needle`. Returns whether they did. */
bool collectorproc_wait_log(const collectorproc_t *self, const char *needle, int n,
                            int64_t timeout_ms);
/* Writes the last `lines` lines of its log to stderr. */
void collectorproc_dump_log(const collectorproc_t *self, int lines);

#endif

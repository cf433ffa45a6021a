/*
 * simproc.h — a bookcast-sim process for one integration test: started on free loopback ports
 * with a throwaway certificate, waited for until every listener accepts, and stopped by pid.
 *
 * Integration tests start the real program, never a stand-in. Each simproc has its own temporary
 * directory (the certificate, the log, any truth file) removed at stop. The test binary needs
 * two compile definitions: BOOKCAST_SIM_BIN (the bookcast-sim executable) and
 * BOOKCAST_SOURCE_DIR (for sim/make-certs.sh).
 */
#ifndef BOOKCAST_SIMPROC_H
#define BOOKCAST_SIMPROC_H

#include "envelope.h" /* market_t */

#include <stdbool.h>
#include <sys/types.h>

typedef struct simproc simproc_t;

/* Starts bookcast-sim with --cert/--key, the three ports and `extra` (a NULL-terminated list of
   further arguments, may be NULL), and waits up to 10 s for its listeners. Its stderr goes to
   <dir>/sim.log. NULL (with the reason on stderr) when it could not start. */
simproc_t *simproc_start(const char *const *extra);

/* Stops it: SIGTERM, up to 5 s for a clean exit, then SIGKILL. Returns its exit status (0 for a
   clean exit), or -1 when it had to be killed or had died by a signal. Removes the directory
   unless KEEP_TEST_DIRS is set in the environment. NULL-safe. */
int simproc_stop(simproc_t **self_p);

/* The listener port of `market`. */
int simproc_port(const simproc_t *self, market_t market);
/* The CA certificate clients verify the sim with. */
const char *simproc_ca(const simproc_t *self);
/* The process's temporary directory (for truth files). */
const char *simproc_dir(const simproc_t *self);
pid_t simproc_pid(const simproc_t *self);
/* True while the process runs. */
bool simproc_alive(simproc_t *self);

/* A URL on the sim: "wss://127.0.0.1:<port><path>" (or https:// when http is true) into buf. */
const char *simproc_url(const simproc_t *self, market_t market, bool http, const char *path,
                        char *buf, size_t len);

/* Counts the lines of the sim's log holding `needle` (to observe what it logged). */
int simproc_log_count(const simproc_t *self, const char *needle);

#endif

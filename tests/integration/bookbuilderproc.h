/*
 * bookbuilderproc.h — a real bookcast-bookbuilder process for one integration test: started with
 * the test's --set assignments, waited for until it logs that it started, signalled and stopped
 * by pid, its log read back.
 *
 * Like collectorproc.h, the process sees only what the test gives it: it runs in its own
 * temporary directory (no config/ there) with every BOOKCAST_* variable removed from its
 * environment, so a developer's config/bookcast.json or environment cannot change what is
 * tested. Its stderr (the log) goes to <dir>/bookbuilder.log. The test binary needs the compile
 * definition BOOKCAST_BOOKBUILDER_BIN.
 */
#ifndef BOOKCAST_BOOKBUILDERPROC_H
#define BOOKCAST_BOOKBUILDERPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct bookbuilderproc bookbuilderproc_t;

/* Starts bookcast-bookbuilder with one --set per "key=value" of `sets` (NULL-terminated, may be
   NULL) and waits up to 10 s for its "bookbuilder started" log line. NULL when it could not
   start or exited first (a port already taken, say); the reason and its log are on stderr. */
bookbuilderproc_t *bookbuilderproc_start(const char *const *sets);

/* SIGTERM, then waits up to wait_ms for the exit (then SIGKILL). Returns the exit status
   (0…255), or -1 when it had to be killed or died by a signal; *took_ms (may be NULL) is the
   time from the signal to the exit. Later calls return the same status. */
int bookbuilderproc_terminate(bookbuilderproc_t *self, int64_t wait_ms, int64_t *took_ms);

/* Terminates it if it still runs (5 s grace), writes its warnings and the end of its log to
   stderr (ctest shows them for a failing test), removes its directory unless KEEP_TEST_DIRS is
   set, frees. NULL-safe. */
void bookbuilderproc_destroy(bookbuilderproc_t **self_p);

/* True while the process runs. */
bool bookbuilderproc_alive(bookbuilderproc_t *self);
pid_t bookbuilderproc_pid(const bookbuilderproc_t *self);
/* Its temporary directory (the working directory; the log is there). */
const char *bookbuilderproc_dir(const bookbuilderproc_t *self);

/* Lines of its log holding `needle`. */
int bookbuilderproc_log_count(const bookbuilderproc_t *self, const char *needle);
/* Writes the last `lines` lines of its log to stderr. */
void bookbuilderproc_dump_log(const bookbuilderproc_t *self, int lines);

#endif

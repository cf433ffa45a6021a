/*
 * testproc.h — a child program of an integration test: started with its argv in a temporary
 * directory of its own, its stdout and stderr (the log) in a file there, waited for until a line
 * shows in that log, signalled and stopped by pid, its log read back and reported.
 *
 * The wrappers (simproc, collectorproc, bookbuilderproc) decide what is particular to their
 * program: the arguments, the readiness line, the files it needs before it starts. This module
 * owns what every child has in common, so that each rule is written once: the child sees only
 * the environment it is given, its directory goes away at the end (unless KEEP_TEST_DIRS is set,
 * for a look after a failure), and a failing test shows the child's warnings.
 *
 * Also here: whether a loopback port is free, for the ports a test hands its children.
 */
#ifndef BOOKCAST_TESTPROC_H
#define BOOKCAST_TESTPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct testproc testproc_t;

typedef struct {
    const char *program;  /* what the lines written to stderr call it: "bookcast-collector" */
    const char *log_name; /* its log file, in its directory: "collector.log" */
    const char *env_drop; /* environment entries starting with this are not passed on
                             ("BOOKCAST_", or "BOOKCAST_CONFIG=" for that one variable);
                             NULL passes the whole environment */
    bool run_in_dir;      /* its working directory is its own directory (no ./config/ there to
                             pick up) rather than the test's */
} testproc_opts_t;

/* Makes a new directory "<prefix>.XXXXXX" ("/tmp/bookcast-coltest"), for testproc_new. The
   caller owns the string (free). NULL, with the reason on stderr, on failure. */
char *testproc_make_dir(const char *prefix);

/* A child not yet started, in `dir` (taken over: removed at destroy, and at once when this
   fails). The options' strings must outlive it (string literals, as a rule). NULL on failure. */
testproc_t *testproc_new(const testproc_opts_t *opts, char *dir);

/* Starts argv[0] with `argv` (NULL-terminated; copied into the child only, so it may be freed
   once this returns), its stdout and stderr going to the log. The argv and environment are
   built before fork, because the test has threads (ZeroMQ's, its readers'): between fork and
   exec the child makes only async-signal-safe calls. 0, or -1 with the reason on stderr.
   At most once per testproc. */
int testproc_start(testproc_t *self, const char *const *argv);

/* Waits up to timeout_ms until a line of its log holds `line` and says on stderr why not when
   it does not (the child exited, or the time ran out). Returns whether the line came. */
bool testproc_wait_ready(testproc_t *self, const char *line, int64_t timeout_ms);

/* Waits up to timeout_ms until at least `n` lines of its log hold `needle`; gives up early
   when the child has exited (its log cannot grow then). Returns whether they did. */
bool testproc_wait_log(testproc_t *self, const char *needle, int n, int64_t timeout_ms);

/* Lines of its log holding `needle` (0 when there is no log yet). */
int testproc_log_count(const testproc_t *self, const char *needle);

/* SIGTERM, then waits up to wait_ms for the exit (then SIGKILL). Returns the exit status
   (0…255), or -1 when it had to be killed, died by a signal or never started; *took_ms (may be
   NULL) is the time from the signal to the exit. Later calls return the same again. */
int testproc_terminate(testproc_t *self, int64_t wait_ms, int64_t *took_ms);

/* For a test's stderr (ctest shows it for a failing test), after testproc_terminate: how the
   child ended, the lines of its log that are not INFO (warnings, errors, a sanitizer's report)
   and its last lines. Nothing when it never started. */
void testproc_report(testproc_t *self);

/* Terminates it if it still runs (5 s grace), removes its directory unless KEEP_TEST_DIRS is
   set in the environment, frees. NULL-safe. */
void testproc_destroy(testproc_t **self_p);

/* Sends `sig`. Returns 0, or -1 when it is not running. */
int testproc_signal(testproc_t *self, int sig);

/* True while the process runs (reaps it once it has exited). */
bool testproc_alive(testproc_t *self);
/* Its pid; 0 when it was never started. */
pid_t testproc_pid(const testproc_t *self);
/* Its directory (the log is there). */
const char *testproc_dir(const testproc_t *self);
/* Writes the last `lines` lines of its log to stderr. */
void testproc_dump_log(const testproc_t *self, int lines);

/* True when 127.0.0.1:`port` (TCP) can be bound right now: it is bound and let go, so another
   process may still take it before the child does. */
bool testproc_port_free(int port);

#endif

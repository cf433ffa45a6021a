/*
 * log.h — the one logger every bookcast program uses.
 *
 * A line is "<UTC time> <LEVEL> <program> <file>:<line> <message>" and always goes to stderr,
 * which is where docker and systemd collect it. Optionally the same lines go to a file that is
 * rotated by size (file, file.1 … file.N, at most max_files rotated files kept), and lines of
 * level warn and above also go to a second, separately rotated file, so an operator can read the
 * problems of a week without the noise.
 *
 * Repeated messages are rate limited per call site: within each window, a site may log `burst`
 * lines; the rest are counted and, when the window is over (or at log_flush), one line says
 * "<last text> (…repeated N times)". Nothing is dropped silently.
 *
 * The logger is process-wide (a single stderr needs a single owner) and thread-safe.
 */
#ifndef BOOKCAST_LOG_H
#define BOOKCAST_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    LOG_DEBUG = 0,
    LOG_INFO = 1,
    LOG_WARN = 2,
    LOG_ERROR = 3,
} log_level_t;

typedef struct {
    log_level_t level;           /* lines below this level are discarded */
    const char *file;            /* all lines also go here when not NULL/"" */
    const char *warn_file;       /* warn and error lines also go here when not NULL/"" */
    uint64_t max_bytes;          /* rotate a file before it would grow past this; 0 = never */
    unsigned max_files;          /* rotated files kept beside each file (file.1 … file.N) */
    unsigned rate_limit_burst;   /* lines per call site per window; 0 = no rate limit */
    unsigned rate_limit_window_ms;
    int to_stderr;               /* nonzero: write to stderr (the default) */
} log_options_t;

/* Fills `opts` with the defaults: info, stderr only, 100 MiB files, 5 kept, 100 lines per site
   per 10 s. */
void log_options_default(log_options_t *opts);

/* Starts logging for `program` (copied). Returns 0, or -1 when a file cannot be opened; the
   reason is written to stderr and logging continues to stderr. Calling it again replaces the
   options (used on reload). */
int log_open(const char *program, const log_options_t *opts);

/* Writes what rate limiting still holds back, then closes the files. */
void log_close(void);

/* Writes the pending "repeated N times" lines whose window has ended. Cheap; call it from a
   periodic timer so a site that went quiet still reports what it suppressed. */
void log_flush(void);

/* Parses "debug", "info", "warn", "error". Returns 0 or -1. */
int log_level_parse(const char *name, log_level_t *level);
const char *log_level_name(log_level_t level);

/* Counters for the status heartbeat. */
typedef struct {
    uint64_t lines;          /* lines written */
    uint64_t suppressed;     /* lines held back by rate limiting */
    uint64_t rotations;      /* file rotations */
    uint64_t write_errors;   /* failed writes or rotations (a full disk, a removed directory) */
} log_stats_t;
void log_stats(log_stats_t *stats);

void log_write(log_level_t level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_debug(...) log_write(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)

#endif

/*
 * log.h — the one logger every bookcast program uses.
 *
 * A line is "<UTC time> <LEVEL> <program> <file>:<line> <message>", e.g.
 *
 *     2026-11-22T21:03:04.123456Z WARN bookcast-collector conn.c:123 message
 *
 * (time with microseconds, <file> the basename of the source file). One call is always one line:
 * newlines and carriage returns inside a message are written as the two characters "\n" and
 * "\r", trailing ones are dropped, and a line is capped at LOG_LINE_MAX bytes, a longer message
 * ending in "…[truncated]". Lines go to stderr, which is where docker and systemd collect them
 * (unless to_stderr is 0). Optionally the same lines go to a file that is rotated by size (file,
 * file.1 … file.N, at most max_files rotated files kept), and lines of level warn and above also
 * go to a second, separately rotated file, so an operator can read the problems of a week
 * without the noise.
 *
 * Repeated messages are rate limited per call site: within each window, a site may log `burst`
 * lines; the rest are counted and, when the window is over (or at log_flush), one line says
 * "<last text> (…repeated N times)". Nothing is dropped silently.
 *
 * The logger is process-wide (a single stderr needs a single owner) and thread-safe. Before
 * log_open and after log_close it writes to stderr with the default options and the program
 * name "bookcast" (or the last one given), so nothing logged early or late is lost.
 */
#ifndef BOOKCAST_LOG_H
#define BOOKCAST_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* czmq.h includes <syslog.h>, whose LOG_DEBUG and LOG_INFO macros (7 and 6) would turn the enum
   below into "7 = 0" or, included after this file, silently make log_debug() log at the wrong
   level. Including it here and removing those two macros lets both headers be included in any
   order (its include guard keeps a later #include from defining them again). bookcast does not
   call syslog(). */
#include <syslog.h>
#undef LOG_DEBUG
#undef LOG_INFO

typedef enum {
    LOG_DEBUG = 0,
    LOG_INFO = 1,
    LOG_WARN = 2,
    LOG_ERROR = 3,
} log_level_t;

/* The longest line written, time to newline; a longer message is cut to fit. */
#define LOG_LINE_MAX 16384

typedef struct {
    log_level_t level;         /* lines below this level are discarded */
    const char *file;          /* all lines also go here when not NULL/"" (copied) */
    const char *warn_file;     /* warn and error lines also go here when not NULL/"" (copied) */
    uint64_t max_bytes;        /* rotate a file before it would grow past this; 0 = never */
    unsigned max_files;        /* rotated files kept (file.1 … file.N); 0 = truncate instead */
    unsigned rate_limit_burst; /* lines per call site per window; 0 = no rate limit */
    unsigned rate_limit_window_ms; /* length of a rate-limit window */
    int to_stderr;                 /* nonzero: write to stderr (the default) */
} log_options_t;

/* Fills `opts` with the defaults: info, stderr only, 100 MiB files, 5 kept, 100 lines per site
   per 10 s. */
void log_options_default(log_options_t *opts);

/* Starts logging for `program` (copied; NULL keeps the current name) with `opts` (NULL: the
   defaults). Files are opened in append mode, created with mode 0640, and an existing file's
   size counts toward max_bytes. Returns 0, or -1 when a file cannot be opened; the reason (path
   and error) is written to stderr, logging continues to stderr and the file is tried again at
   most once a second. Calling it again replaces the options (used on reload): pending "repeated"
   lines are written first, counters are kept. A first call (or one after log_close) zeroes the
   counters. */
int log_open(const char *program, const log_options_t *opts);

/* Writes what rate limiting still holds back, then closes the files. Logging goes on to stderr
   with the default options; the counters stay readable until the next log_open. */
void log_close(void);

/* Writes the pending "repeated N times" lines whose window has ended. Cheap; call it from a
   periodic timer so a site that went quiet still reports what it suppressed. */
void log_flush(void);

/* Replaces the clock used for line times and rate-limit windows: `now_ns` returns nanoseconds
   since the Unix epoch. NULL restores CLOCK_REALTIME. For tests, so time can move without
   sleeping. */
void log_set_clock(int64_t (*now_ns)(void));

/* Parses "debug", "info", "warn" (or "warning"), "error", in any case. Returns 0 or -1. */
int log_level_parse(const char *name, log_level_t *level);
/* "DEBUG", "INFO", "WARN", "ERROR" (as in a line), "UNKNOWN" for anything else. */
const char *log_level_name(log_level_t level);

/* Nonzero when a line of `level` would be written; lets a caller skip building an expensive
   debug message. */
int log_level_enabled(log_level_t level);

/* Counters for the status heartbeat. */
typedef struct {
    uint64_t lines;        /* lines written (passed the level and the rate limit), including
                              the "repeated N times" lines */
    uint64_t suppressed;   /* lines held back by rate limiting */
    uint64_t rotations;    /* file rotations */
    uint64_t write_errors; /* failed writes, opens, renames (a full disk, a removed directory);
                              a line lost to a file that could not be opened counts too */
} log_stats_t;
void log_stats(log_stats_t *stats);

/* Writes one line. `file` is __FILE__: its address and `line` name the call site for rate
   limiting, so it must be a string that lives as long as the program (a literal). */
void log_write(log_level_t level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* log_write with a va_list, for wrappers that take a format of their own. */
void log_vwrite(log_level_t level, const char *file, int line, const char *fmt, va_list args)
    __attribute__((format(printf, 4, 0)));

#define log_debug(...) log_write(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)

#endif

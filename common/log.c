/*
 * log.c — the process-wide logger: line formatting, per-call-site rate limiting, size rotation.
 *
 * Why one process-wide logger. stderr is one file descriptor shared by every thread; lines from
 * two owners would interleave and two rotators of one file would rename it under each other. So
 * there is one state, behind one mutex, and every module calls log_*() without a handle. The
 * mutex covers only the cheap part (clock, rate-limit slot, prefix, writes): the message is
 * formatted into the caller's stack buffer before taking it, and lines below the level are
 * rejected with one relaxed atomic load.
 *
 * Why rate limiting per call site. A failure in a loop (a reconnect storm, a malformed frame per
 * message) should not drown the other messages or fill the disk, but one noisy site must not
 * silence the others either — a global budget would. The site is the (__FILE__ address, __LINE__)
 * pair: free to compute, stable for the life of the process. Sites live in a fixed table of
 * LOG_SITE_SLOTS slots with linear probing and no deletion (a program has a bounded number of
 * call sites); when the table is full a new site is simply not limited — writing too much is
 * better than dropping. A suppressed line is counted and its text kept, and once its window has
 * ended one "<text> (…repeated N times)" line says what was held back: nothing disappears.
 *
 * Why rotate before writing. Checking "size + this line > max_bytes" before the write keeps
 * every file within max_bytes (unless a single line is longer than that: it then goes alone into
 * a fresh file, never lost) and a line is never split across two files. The size is tracked in
 * memory (starting from fstat at open), so the check costs nothing per line. Rotation renames
 * file.(N-1) → file.N … file → file.1 (a rename onto file.N replaces the oldest) and reopens the
 * path; only regular files rotate, so /dev/stdout or a FIFO as the log file is left alone.
 *
 * Errors. The logger cannot log its own failures to the file that failed, so they go to stderr,
 * at most once a minute per file, and to the write_errors counter. A file that could not be
 * opened (or reopened after a rotation) is retried at most once a second; the lines meant for it
 * in between count as write errors. Writes use write(2)/writev(2) on raw descriptors: no stdio
 * buffer to lose at a crash and no allocation per line.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "log.h"
#include "now.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_SECOND INT64_C(1000000000)
#define NS_PER_MS INT64_C(1000000)

/* The prefix is "<time> <LEVEL> <program> <basename>:<line> "; its parts are capped so it always
   fits: 27 + 1 + 5 + 1 + 63 + 1 + 120 + 1 + 11 + 1 < 256. */
#define LOG_PREFIX_MAX 256
#define LOG_PROGRAM_MAX 64
#define LOG_BASENAME_SHOWN_MAX 120
/* A message leaves room for the prefix and the newline, so a line is at most LOG_LINE_MAX. */
#define LOG_MESSAGE_MAX (LOG_LINE_MAX - LOG_PREFIX_MAX - 1)
#define LOG_TRUNCATION_MARKER "\xe2\x80\xa6[truncated]" /* "…[truncated]" */
#define LOG_TRUNCATION_MARKER_LEN (sizeof LOG_TRUNCATION_MARKER - 1)

/* 256 sites × ~1 KiB of remembered text: a bounded 260 KiB, untouched until sites appear. */
#define LOG_SITE_SLOTS 256
#define LOG_SITE_TEXT_MAX 1024

/* ".4294967295": the longest suffix of a rotated file. */
#define LOG_ROTATED_SUFFIX_MAX 12
#define LOG_ERROR_REPORT_INTERVAL_NS (60 * NS_PER_SECOND)
#define LOG_REOPEN_INTERVAL_NS NS_PER_SECOND

typedef struct {
    char path[PATH_MAX]; /* "" when this output is not configured */
    const char *role;    /* "log file" or "warn log file", for error messages */
    int fd;              /* -1 when not open */
    uint64_t size_bytes; /* what the open file holds, to decide rotation */
    int is_regular;      /* only regular files are rotated */
    int64_t last_open_attempt_ns;
    int last_open_error; /* errno of the last failed open, reported for the lines it loses */
    int has_reported_error;
    int64_t last_error_report_ns;
} log_file_t;

typedef struct {
    const char *source_file; /* NULL: free slot */
    int source_line;
    int64_t window_start_ns;
    unsigned lines_in_window;
    uint64_t suppressed_count; /* since the last "repeated" line */
    log_level_t suppressed_level;
    size_t last_text_len;
    char last_text[LOG_SITE_TEXT_MAX]; /* the last suppressed message */
} log_site_t;

#define LOG_OPTIONS_DEFAULT_INITIALIZER                                                            \
    {                                                                                              \
        .level = LOG_INFO, .file = NULL, .warn_file = NULL,                                        \
        .max_bytes = UINT64_C(100) * 1024 * 1024, .max_files = 5, .rate_limit_burst = 100,         \
        .rate_limit_window_ms = 10000, .to_stderr = 1,                                             \
    }

/* A default (non-checking, non-recursive) mutex: lock and unlock cannot fail when used in pairs,
   so their results are not tested. */
static pthread_mutex_t logger_mutex = PTHREAD_MUTEX_INITIALIZER;
/* Read without the mutex by the level check at the top of every call. */
static atomic_int logger_level = LOG_INFO;

/* Everything below is guarded by logger_mutex. */
static struct {
    int is_open;
    char program[LOG_PROGRAM_MAX];
    log_options_t options; /* file and warn_file are not used: the paths live in the log_file_t */
    log_file_t all_lines;
    log_file_t warn_lines;
    log_site_t sites[LOG_SITE_SLOTS];
    unsigned sites_with_suppressed; /* lets log_flush return at once when nothing is pending */
    log_stats_t stats;
    int64_t (*clock_now_ns)(void);
    int64_t cached_second; /* the second whose text is in cached_second_text */
    char cached_second_text[32];
} logger = {
    .program = "bookcast",
    .options = LOG_OPTIONS_DEFAULT_INITIALIZER,
    .all_lines = {.role = "log file", .fd = -1},
    .warn_lines = {.role = "warn log file", .fd = -1},
    .cached_second = INT64_MIN,
};

void log_options_default(log_options_t *opts)
{
    if (opts == NULL)
        return;
    *opts = (log_options_t)LOG_OPTIONS_DEFAULT_INITIALIZER;
}

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

const char *log_level_name(log_level_t level)
{
    if ((int)level < LOG_DEBUG || (int)level > LOG_ERROR)
        return "UNKNOWN";
    return level_names[level];
}

int log_level_parse(const char *name, log_level_t *level)
{
    if (name == NULL || level == NULL)
        return -1;
    for (int candidate = LOG_DEBUG; candidate <= LOG_ERROR; candidate++) {
        if (strcasecmp(name, level_names[candidate]) == 0) {
            *level = (log_level_t)candidate;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *level = LOG_WARN;
        return 0;
    }
    return -1;
}

/* An out-of-range level is logged as an error rather than lost. */
static log_level_t level_clamped(log_level_t level)
{
    if ((int)level < LOG_DEBUG)
        return LOG_DEBUG;
    if ((int)level > LOG_ERROR)
        return LOG_ERROR;
    return level;
}

int log_level_enabled(log_level_t level)
{
    return (int)level_clamped(level) >= atomic_load_explicit(&logger_level, memory_order_relaxed);
}

/* Wall time, since a line's time leaves the process; the rate-limit windows use it too (one
   injectable clock for tests), which a stepped clock can only shorten: see site_window_ended.
   Caller holds the mutex. */
static int64_t logger_now_ns(void)
{
    return logger.clock_now_ns != NULL ? logger.clock_now_ns() : now_realtime_ns();
}

void log_set_clock(int64_t (*now_ns)(void))
{
    pthread_mutex_lock(&logger_mutex);
    logger.clock_now_ns = now_ns;
    pthread_mutex_unlock(&logger_mutex);
}

/* ---- Building a line ------------------------------------------------------------------------ */

static int is_utf8_continuation(char byte)
{
    return ((unsigned char)byte & 0xC0) == 0x80;
}

/* Makes message[0, len) a single line of at most LOG_MESSAGE_MAX bytes, in place: trailing
   newlines dropped, inner "\n" and "\r" written as two characters, and when it does not fit (or
   `truncated`: vsnprintf already cut it) the tail replaced by the marker, cut at a UTF-8
   character boundary. The buffer holds LOG_MESSAGE_MAX + 1 bytes. Returns the new length. */
static size_t message_make_one_line(char *message, size_t len, int truncated)
{
    if (!truncated)
        while (len > 0 && (message[len - 1] == '\n' || message[len - 1] == '\r'))
            len--;
    size_t escapes = 0;
    for (size_t i = 0; i < len; i++)
        if (message[i] == '\n' || message[i] == '\r')
            escapes++;
    if (escapes == 0 && !truncated)
        return len;

    size_t budget = LOG_MESSAGE_MAX;
    if (len + escapes > budget)
        truncated = 1;
    if (truncated)
        budget -= LOG_TRUNCATION_MARKER_LEN;
    size_t kept_in = 0, kept_out = 0;
    while (kept_in < len) {
        size_t width = (message[kept_in] == '\n' || message[kept_in] == '\r') ? 2 : 1;
        if (kept_out + width > budget)
            break;
        kept_out += width;
        kept_in++;
    }
    /* Continuation bytes are never newlines, so each one given back is one output byte. */
    if (truncated)
        while (kept_in > 0 && kept_in < len && is_utf8_continuation(message[kept_in])) {
            kept_in--;
            kept_out--;
        }
    /* Backwards, so the expansion never overwrites a byte not yet read. */
    size_t read = kept_in, write = kept_out;
    while (read > 0) {
        char byte = message[--read];
        if (byte == '\n' || byte == '\r') {
            message[--write] = byte == '\n' ? 'n' : 'r';
            message[--write] = '\\';
        } else {
            message[--write] = byte;
        }
    }
    if (truncated) {
        memcpy(message + kept_out, LOG_TRUNCATION_MARKER, LOG_TRUNCATION_MARKER_LEN);
        kept_out += LOG_TRUNCATION_MARKER_LEN;
    }
    return kept_out;
}

/* Formats the caller's message into `message` (LOG_MESSAGE_MAX + 1 bytes) as one line. */
static size_t message_format(char *message, const char *fmt, va_list args)
{
    int formatted = vsnprintf(message, LOG_MESSAGE_MAX + 1, fmt, args);
    if (formatted < 0) {
        static const char format_failed[] = "(log message could not be formatted)";
        memcpy(message, format_failed, sizeof format_failed);
        return sizeof format_failed - 1;
    }
    int truncated = (size_t)formatted > LOG_MESSAGE_MAX;
    size_t len = truncated ? LOG_MESSAGE_MAX : (size_t)formatted;
    return message_make_one_line(message, len, truncated);
}

static const char *source_basename(const char *path)
{
    if (path == NULL)
        return "?";
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* Writes "<time> <LEVEL> <program> <basename>:<line> " into prefix (LOG_PREFIX_MAX bytes).
   Caller holds the mutex (the per-second text is cached). Returns the length. */
static size_t prefix_format(char *prefix, int64_t now_ns, log_level_t level,
                            const char *source_file, int source_line)
{
    int64_t second = now_ns / NS_PER_SECOND;
    int64_t subsecond_ns = now_ns % NS_PER_SECOND;
    if (subsecond_ns < 0) { /* floor, for a clock before 1970 */
        second -= 1;
        subsecond_ns += NS_PER_SECOND;
    }
    if (second != logger.cached_second) {
        time_t as_time_t = (time_t)second;
        struct tm calendar;
        if (gmtime_r(&as_time_t, &calendar) == NULL ||
            strftime(logger.cached_second_text, sizeof logger.cached_second_text,
                     "%Y-%m-%dT%H:%M:%S", &calendar) == 0) {
            snprintf(logger.cached_second_text, sizeof logger.cached_second_text, "@%" PRId64,
                     second);
        }
        logger.cached_second = second;
    }
    int written =
        snprintf(prefix, LOG_PREFIX_MAX, "%s.%06dZ %s %s %.*s:%d ", logger.cached_second_text,
                 (int)(subsecond_ns / 1000), level_names[level], logger.program,
                 LOG_BASENAME_SHOWN_MAX, source_basename(source_file), source_line);
    if (written < 0) {
        prefix[0] = '\0';
        return 0;
    }
    return (size_t)written < LOG_PREFIX_MAX ? (size_t)written : LOG_PREFIX_MAX - 1;
}

/* ---- Writing -------------------------------------------------------------------------------- */

/* Writes all of iov (count ≤ 3), resuming after short writes and EINTR. Adds what reached the
   file to *written_bytes. Returns 0 or an errno value. */
static int write_all(int fd, const struct iovec *iov_in, int count, uint64_t *written_bytes)
{
    struct iovec iov[3];
    memcpy(iov, iov_in, (size_t)count * sizeof iov[0]);
    int first = 0;
    while (first < count) {
        ssize_t written = writev(fd, iov + first, count - first);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (written == 0)
            return EIO;
        *written_bytes += (uint64_t)written;
        size_t remaining = (size_t)written;
        while (first < count && remaining >= iov[first].iov_len) {
            remaining -= iov[first].iov_len;
            first++;
        }
        if (first < count) {
            iov[first].iov_base = (char *)iov[first].iov_base + remaining;
            iov[first].iov_len -= remaining;
        }
    }
    return 0;
}

/* Writes a line about the logger's own trouble straight to stderr, whatever to_stderr says:
   the file it concerns may be the one that failed. Caller holds the mutex. */
static void report_to_stderr(int64_t now_ns, int source_line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report_to_stderr(int64_t now_ns, int source_line, const char *fmt, ...)
{
    char prefix[LOG_PREFIX_MAX];
    char message[512];
    va_list args;
    va_start(args, fmt);
    int formatted = vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    if (formatted < 0)
        return;
    size_t message_len =
        (size_t)formatted < sizeof message ? (size_t)formatted : sizeof message - 1;
    size_t prefix_len = prefix_format(prefix, now_ns, LOG_ERROR, __FILE__, source_line);
    struct iovec iov[3] = {
        {prefix, prefix_len},
        {message, message_len},
        {(char *)"\n", 1},
    };
    uint64_t ignored = 0;
    if (write_all(STDERR_FILENO, iov, 3, &ignored) != 0)
        logger.stats.write_errors++; /* stderr itself failed: nowhere left to say so */
}

/* Counts a failure of `file` and says so on stderr unless it did less than a minute ago. */
static void file_error(log_file_t *file, const char *action, int error_number, int64_t now_ns)
{
    logger.stats.write_errors++;
    if (file->has_reported_error &&
        now_ns - file->last_error_report_ns < LOG_ERROR_REPORT_INTERVAL_NS &&
        now_ns >= file->last_error_report_ns)
        return;
    file->has_reported_error = 1;
    file->last_error_report_ns = now_ns;
    char reason[128];
    report_to_stderr(now_ns, __LINE__,
                     "cannot %s %s %s: %s (%" PRIu64 " logger write errors so far; "
                     "reported at most once a minute)",
                     action, file->role, file->path,
                     strerror_r(error_number, reason, sizeof reason), logger.stats.write_errors);
}

/* Opens file->path for appending. Returns 0 or an errno value; file->fd stays -1 on failure. */
static int file_open(log_file_t *file, int64_t now_ns, int flags_extra)
{
    file->last_open_attempt_ns = now_ns;
    int fd = open(file->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | flags_extra, 0640);
    if (fd < 0) {
        file->last_open_error = errno;
        return file->last_open_error;
    }
    struct stat status;
    if (fstat(fd, &status) != 0) {
        file->last_open_error = errno;
        (void)close(fd); /* the fstat error is the one worth reporting */
        return file->last_open_error;
    }
    file->fd = fd;
    file->is_regular = S_ISREG(status.st_mode);
    file->size_bytes = status.st_size > 0 ? (uint64_t)status.st_size : 0;
    return 0;
}

static void file_close(log_file_t *file, int64_t now_ns)
{
    if (file->fd < 0)
        return;
    int fd = file->fd;
    file->fd = -1;
    if (close(fd) != 0)
        file_error(file, "close", errno, now_ns);
}

/* path + "." + n into name (PATH_MAX + LOG_ROTATED_SUFFIX_MAX bytes); n == 0 is the path. */
static void rotated_name(char *name, const char *path, unsigned n)
{
    if (n == 0)
        snprintf(name, PATH_MAX + LOG_ROTATED_SUFFIX_MAX, "%s", path);
    else
        snprintf(name, PATH_MAX + LOG_ROTATED_SUFFIX_MAX, "%s.%u", path, n);
}

/* file.(N-1) → file.N … file → file.1, then the path reopened empty; with max_files 0, the
   path truncated. On a failed rename of the file itself the current file is kept (it grows past
   max_bytes rather than losing lines, and the next line tries again). */
static void file_rotate(log_file_t *file, int64_t now_ns)
{
    unsigned max_files = logger.options.max_files;
    if (max_files > 0) {
        char from[PATH_MAX + LOG_ROTATED_SUFFIX_MAX];
        char to[PATH_MAX + LOG_ROTATED_SUFFIX_MAX];
        for (unsigned n = max_files; n >= 1; n--) {
            rotated_name(from, file->path, n - 1);
            rotated_name(to, file->path, n);
            if (rename(from, to) == 0)
                continue;
            int error_number = errno;
            if (error_number == ENOENT)
                continue; /* not there yet; for the file itself, removed: reopen below */
            file_error(file, "rotate", error_number, now_ns);
            if (n == 1)
                return;
        }
    }
    int old_fd = file->fd;
    file->fd = -1;
    int open_error = file_open(file, now_ns, max_files == 0 ? O_TRUNC : 0);
    if (close(old_fd) != 0)
        file_error(file, "close", errno, now_ns);
    if (open_error != 0) {
        file_error(file, "reopen after rotating", open_error, now_ns);
        return;
    }
    logger.stats.rotations++;
}

/* Writes one line (iov, total bytes) to a configured file, rotating first when the line would
   make it exceed max_bytes. */
static void file_write_line(log_file_t *file, const struct iovec *iov, size_t line_len,
                            int64_t now_ns)
{
    if (file->path[0] == '\0')
        return;
    if (file->fd < 0) {
        int64_t since_attempt_ns = now_ns - file->last_open_attempt_ns;
        if (since_attempt_ns >= LOG_REOPEN_INTERVAL_NS || since_attempt_ns < 0)
            (void)file_open(file, now_ns, 0); /* its error is in last_open_error */
        if (file->fd < 0) {
            file_error(file, "open", file->last_open_error, now_ns);
            return;
        }
    }
    uint64_t max_bytes = logger.options.max_bytes;
    if (file->is_regular && max_bytes > 0 && file->size_bytes > 0 &&
        file->size_bytes + line_len > max_bytes) {
        file_rotate(file, now_ns);
        if (file->fd < 0)
            return;
    }
    int error_number = write_all(file->fd, iov, 3, &file->size_bytes);
    if (error_number != 0)
        file_error(file, "write to", error_number, now_ns);
}

/* Writes a line to every output it belongs to. Caller holds the mutex. */
static void line_emit(log_level_t level, const char *source_file, int source_line,
                      const char *message, size_t message_len, int64_t now_ns)
{
    char prefix[LOG_PREFIX_MAX];
    size_t prefix_len = prefix_format(prefix, now_ns, level, source_file, source_line);
    struct iovec iov[3] = {
        {prefix, prefix_len},
        {(char *)message, message_len},
        {(char *)"\n", 1},
    };
    size_t line_len = prefix_len + message_len + 1;
    logger.stats.lines++;
    if (logger.options.to_stderr) {
        uint64_t ignored = 0;
        if (write_all(STDERR_FILENO, iov, 3, &ignored) != 0)
            logger.stats.write_errors++;
    }
    file_write_line(&logger.all_lines, iov, line_len, now_ns);
    if (level >= LOG_WARN)
        file_write_line(&logger.warn_lines, iov, line_len, now_ns);
}

/* ---- Rate limiting -------------------------------------------------------------------------- */

/* The slot of a call site, claimed if new; NULL when the table is full. */
static log_site_t *site_find(const char *source_file, int source_line)
{
    uint64_t hash = (uint64_t)(uintptr_t)source_file * UINT64_C(0x9E3779B97F4A7C15) ^
                    (uint64_t)(unsigned)source_line * UINT64_C(0xC2B2AE3D27D4EB4F);
    hash ^= hash >> 29;
    for (unsigned probe = 0; probe < LOG_SITE_SLOTS; probe++) {
        log_site_t *site = &logger.sites[(hash + probe) % LOG_SITE_SLOTS];
        if (site->source_file == source_file && site->source_line == source_line)
            return site;
        if (site->source_file == NULL) {
            site->source_file = source_file;
            site->source_line = source_line;
            site->lines_in_window = 0;
            site->suppressed_count = 0;
            return site;
        }
    }
    return NULL;
}

static int site_window_ended(const log_site_t *site, int64_t now_ns)
{
    int64_t elapsed_ns = now_ns - site->window_start_ns;
    /* A clock stepped back ends the window rather than stretching it. */
    return elapsed_ns < 0 || elapsed_ns >= (int64_t)logger.options.rate_limit_window_ms * NS_PER_MS;
}

/* Keeps the text of a suppressed line, cut to fit the slot at a character boundary. */
static void site_remember(log_site_t *site, log_level_t level, const char *message, size_t len)
{
    site->suppressed_level = level;
    if (len <= LOG_SITE_TEXT_MAX) {
        memcpy(site->last_text, message, len);
        site->last_text_len = len;
        return;
    }
    size_t kept = LOG_SITE_TEXT_MAX - LOG_TRUNCATION_MARKER_LEN;
    while (kept > 0 && is_utf8_continuation(message[kept]))
        kept--;
    memcpy(site->last_text, message, kept);
    memcpy(site->last_text + kept, LOG_TRUNCATION_MARKER, LOG_TRUNCATION_MARKER_LEN);
    site->last_text_len = kept + LOG_TRUNCATION_MARKER_LEN;
}

/* Writes "<last text> (…repeated N times)" for a site and clears its count. */
static void site_report_suppressed(log_site_t *site, int64_t now_ns)
{
    if (site->suppressed_count == 0)
        return;
    char report[LOG_SITE_TEXT_MAX + 64];
    memcpy(report, site->last_text, site->last_text_len);
    int suffix_len = snprintf(report + site->last_text_len, sizeof report - site->last_text_len,
                              " (\xe2\x80\xa6repeated %" PRIu64 " times)", site->suppressed_count);
    size_t report_len = site->last_text_len + (suffix_len > 0 ? (size_t)suffix_len : 0);
    site->suppressed_count = 0;
    logger.sites_with_suppressed--;
    line_emit(site->suppressed_level, site->source_file, site->source_line, report, report_len,
              now_ns);
}

/* Reports every site with suppressed lines: all of them (`force`) or those whose window ended. */
static void sites_report(int force, int64_t now_ns)
{
    for (unsigned i = 0; i < LOG_SITE_SLOTS && logger.sites_with_suppressed > 0; i++) {
        log_site_t *site = &logger.sites[i];
        if (site->suppressed_count > 0 && (force || site_window_ended(site, now_ns)))
            site_report_suppressed(site, now_ns);
    }
}

static void sites_clear(void)
{
    for (unsigned i = 0; i < LOG_SITE_SLOTS; i++) {
        logger.sites[i].source_file = NULL;
        logger.sites[i].suppressed_count = 0;
    }
    logger.sites_with_suppressed = 0;
}

/* Decides whether a line of this site goes out now. Returns 0 when it was suppressed. Writes the
   site's pending report first when a new window starts. */
static int site_admit(const char *source_file, int source_line, log_level_t level,
                      const char *message, size_t message_len, int64_t now_ns)
{
    unsigned burst = logger.options.rate_limit_burst;
    if (burst == 0 || source_file == NULL)
        return 1;
    log_site_t *site = site_find(source_file, source_line);
    if (site == NULL)
        return 1; /* table full: write rather than drop */
    if (site->lines_in_window == 0 || site_window_ended(site, now_ns)) {
        site_report_suppressed(site, now_ns);
        site->window_start_ns = now_ns;
        site->lines_in_window = 0;
    }
    if (site->lines_in_window < burst) {
        site->lines_in_window++;
        return 1;
    }
    if (site->suppressed_count == 0)
        logger.sites_with_suppressed++;
    site->suppressed_count++;
    logger.stats.suppressed++;
    site_remember(site, level, message, message_len);
    return 0;
}

/* ---- The API -------------------------------------------------------------------------------- */

void log_vwrite(log_level_t level, const char *file, int line, const char *fmt, va_list args)
{
    level = level_clamped(level);
    if ((int)level < atomic_load_explicit(&logger_level, memory_order_relaxed))
        return;
    char message[LOG_MESSAGE_MAX + 1];
    size_t message_len = message_format(message, fmt != NULL ? fmt : "(null)", args);

    pthread_mutex_lock(&logger_mutex);
    int64_t now_ns = logger_now_ns();
    if (site_admit(file, line, level, message, message_len, now_ns))
        line_emit(level, file, line, message, message_len, now_ns);
    pthread_mutex_unlock(&logger_mutex);
}

void log_write(log_level_t level, const char *file, int line, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    log_vwrite(level, file, line, fmt, args);
    va_end(args);
}

void log_flush(void)
{
    pthread_mutex_lock(&logger_mutex);
    if (logger.sites_with_suppressed > 0)
        sites_report(0, logger_now_ns());
    pthread_mutex_unlock(&logger_mutex);
}

/* Copies a configured path; an over-long one cannot be opened (nor rotated). */
static int file_configure(log_file_t *file, const char *path)
{
    file->path[0] = '\0';
    file->has_reported_error = 0;
    file->last_open_attempt_ns = 0;
    if (path == NULL || path[0] == '\0')
        return 0;
    if (strlen(path) >= PATH_MAX) {
        return ENAMETOOLONG;
    }
    memcpy(file->path, path, strlen(path) + 1);
    return 0;
}

static int file_start(log_file_t *file, const char *path, int64_t now_ns)
{
    int error_number = file_configure(file, path);
    if (error_number == 0 && file->path[0] != '\0')
        error_number = file_open(file, now_ns, 0);
    if (error_number == 0)
        return 0;
    char reason[128];
    report_to_stderr(now_ns, __LINE__, "cannot open %s %s: %s (logging goes on to stderr)",
                     file->role, path, strerror_r(error_number, reason, sizeof reason));
    if (error_number == ENAMETOOLONG)
        file->path[0] = '\0'; /* never openable: do not retry */
    file->has_reported_error = 1;
    file->last_error_report_ns = now_ns;
    return -1;
}

int log_open(const char *program, const log_options_t *opts)
{
    log_options_t defaults;
    log_options_default(&defaults);
    if (opts == NULL)
        opts = &defaults;

    pthread_mutex_lock(&logger_mutex);
    int64_t now_ns = logger_now_ns();
    sites_report(1, now_ns);
    file_close(&logger.all_lines, now_ns);
    file_close(&logger.warn_lines, now_ns);
    sites_clear();
    if (!logger.is_open)
        memset(&logger.stats, 0, sizeof logger.stats);
    logger.is_open = 1;
    if (program != NULL)
        snprintf(logger.program, sizeof logger.program, "%s", program);
    logger.options = *opts;
    logger.options.level = level_clamped(opts->level);
    logger.options.file = NULL;
    logger.options.warn_file = NULL;
    int result = 0;
    if (file_start(&logger.all_lines, opts->file, now_ns) != 0)
        result = -1;
    if (file_start(&logger.warn_lines, opts->warn_file, now_ns) != 0)
        result = -1;
    atomic_store_explicit(&logger_level, (int)logger.options.level, memory_order_relaxed);
    pthread_mutex_unlock(&logger_mutex);
    return result;
}

void log_close(void)
{
    pthread_mutex_lock(&logger_mutex);
    int64_t now_ns = logger_now_ns();
    sites_report(1, now_ns);
    file_close(&logger.all_lines, now_ns);
    file_close(&logger.warn_lines, now_ns);
    logger.all_lines.path[0] = '\0';
    logger.warn_lines.path[0] = '\0';
    sites_clear();
    log_options_default(&logger.options);
    logger.is_open = 0;
    atomic_store_explicit(&logger_level, (int)logger.options.level, memory_order_relaxed);
    pthread_mutex_unlock(&logger_mutex);
}

void log_stats(log_stats_t *stats)
{
    if (stats == NULL)
        return;
    pthread_mutex_lock(&logger_mutex);
    *stats = logger.stats;
    pthread_mutex_unlock(&logger_mutex);
}

/*
 * test_log.c — the logger's contract (common/log.h), one test per behaviour.
 *
 * Every test gets a fresh temporary directory and a fake clock (log_set_clock), so rate-limit
 * windows and error-report intervals are crossed by moving a number, not by sleeping. Most tests
 * set to_stderr = 0 and read the log file; those about stderr itself point fd 2 at a file with
 * dup2 and read that.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* 2026-11-22T21:03:04.123456789Z */
#define FAKE_START_NS INT64_C(1795381384123456789)
#define NS_PER_MS INT64_C(1000000)
#define NS_PER_SECOND INT64_C(1000000000)
#define PROGRAM "test-log"

static char test_dir[PATH_MAX];
static int64_t fake_now_ns;
static int saved_stderr_fd = -1;

static int64_t fake_clock(void)
{
    return fake_now_ns;
}

/* ---- Helpers -------------------------------------------------------------------------------- */

static void path_in_test_dir(char *path, const char *name)
{
    int written = snprintf(path, PATH_MAX, "%s/%s", test_dir, name);
    assert_true(written > 0 && written < PATH_MAX);
}

static int file_exists(const char *path)
{
    struct stat status;
    return stat(path, &status) == 0;
}

static uint64_t file_size(const char *path)
{
    struct stat status;
    assert_int_equal(stat(path, &status), 0);
    return (uint64_t)status.st_size;
}

/* The whole file as a NUL-terminated string (caller frees), NULL when it does not exist. */
static char *file_read(const char *path)
{
    FILE *stream = fopen(path, "rb");
    if (stream == NULL) {
        assert_int_equal(errno, ENOENT);
        return NULL;
    }
    size_t capacity = 4096, len = 0;
    char *text = malloc(capacity);
    assert_non_null(text);
    size_t got;
    while ((got = fread(text + len, 1, capacity - len - 1, stream)) > 0) {
        len += got;
        if (capacity - len - 1 == 0) {
            capacity *= 2;
            text = realloc(text, capacity);
            assert_non_null(text);
        }
    }
    assert_int_equal(ferror(stream), 0);
    assert_int_equal(fclose(stream), 0);
    text[len] = '\0';
    return text;
}

static void file_write(const char *path, const char *text, size_t len)
{
    FILE *stream = fopen(path, "wb");
    assert_non_null(stream);
    assert_int_equal(fwrite(text, 1, len, stream), len);
    assert_int_equal(fclose(stream), 0);
}

/* A file split into lines (without their newlines); an absent file has none. */
typedef struct {
    char *text;
    char *lines[20000];
    size_t count;
} file_lines_t;

static file_lines_t *file_lines_read(const char *path)
{
    file_lines_t *result = calloc(1, sizeof *result);
    assert_non_null(result);
    result->text = file_read(path);
    if (result->text == NULL)
        return result;
    char *cursor = result->text;
    while (*cursor != '\0') {
        char *newline = strchr(cursor, '\n');
        assert_non_null(newline); /* every line is complete */
        *newline = '\0';
        assert_true(result->count < sizeof result->lines / sizeof result->lines[0]);
        result->lines[result->count++] = cursor;
        cursor = newline + 1;
    }
    return result;
}

static void file_lines_free(file_lines_t *file_lines)
{
    free(file_lines->text);
    free(file_lines);
}

/* Field `index` (0 time, 1 level, 2 program, 3 file:line) of a line, copied into out. */
static void line_field(const char *line, int index, char *out, size_t out_size)
{
    const char *start = line;
    for (int i = 0; i < index; i++) {
        start = strchr(start, ' ');
        assert_non_null(start);
        start++;
    }
    const char *end = strchr(start, ' ');
    assert_non_null(end);
    assert_true((size_t)(end - start) < out_size);
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
}

/* The message: everything after the fourth space. */
static const char *line_message(const char *line)
{
    const char *cursor = line;
    for (int i = 0; i < 4; i++) {
        cursor = strchr(cursor, ' ');
        assert_non_null(cursor);
        cursor++;
    }
    return cursor;
}

static size_t occurrences(const char *text, const char *needle)
{
    size_t count = 0;
    for (const char *at = strstr(text, needle); at != NULL; at = strstr(at + 1, needle))
        count++;
    return count;
}

static void stderr_capture_start(void)
{
    char path[PATH_MAX];
    path_in_test_dir(path, "stderr.txt");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(saved_stderr_fd, -1);
    saved_stderr_fd = dup(STDERR_FILENO);
    assert_true(saved_stderr_fd >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    assert_int_equal(close(fd), 0);
}

static void stderr_restore(void)
{
    if (saved_stderr_fd < 0)
        return;
    int restored = dup2(saved_stderr_fd, STDERR_FILENO);
    int closed = close(saved_stderr_fd);
    saved_stderr_fd = -1;
    assert_int_equal(restored, STDERR_FILENO);
    assert_int_equal(closed, 0);
}

/* Restores stderr and returns what was written to it (caller frees). */
static char *stderr_capture_stop(void)
{
    stderr_restore();
    char path[PATH_MAX];
    path_in_test_dir(path, "stderr.txt");
    char *text = file_read(path);
    assert_non_null(text);
    return text;
}

/* Defaults, but lines only to `name` in the test directory (its path into path). */
static log_options_t options_to_file(char *path, const char *name)
{
    log_options_t opts;
    log_options_default(&opts);
    opts.to_stderr = 0;
    path_in_test_dir(path, name);
    opts.file = path;
    return opts;
}

static int remove_entry(const char *path, const struct stat *status, int type, struct FTW *walk)
{
    (void)status;
    (void)type;
    (void)walk;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(test_dir, sizeof test_dir, "/tmp/bookcast-test-log-XXXXXX");
    if (mkdtemp(test_dir) == NULL)
        return -1;
    fake_now_ns = FAKE_START_NS;
    log_set_clock(fake_clock);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    log_close();
    stderr_restore();
    log_set_clock(NULL);
    if (chmod(test_dir, 0700) != 0) /* in case a test took permissions away */
        return -1;
    return nftw(test_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Call sites for the rate-limit tests: each function is one site. */
static void log_from_site_a(int i)
{
    log_warn("site a message %d", i);
}

static void log_from_site_b(int i)
{
    log_warn("site b message %d", i);
}

/* ---- Format --------------------------------------------------------------------------------- */

static void line_has_utc_time_level_program_basename_line_and_message(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    assert_int_equal(log_open(PROGRAM, &opts), 0);

    const int line = __LINE__ + 1;
    log_warn("hello %s %d", "world", 42);

    char expected[256];
    snprintf(expected, sizeof expected,
             "2026-11-22T21:03:04.123456Z WARN " PROGRAM " test_log.c:%d hello world 42\n", line);
    char *text = file_read(path);
    assert_non_null(text);
    assert_string_equal(text, expected);
    free(text);
}

static void line_time_from_real_clock_is_iso_utc_with_microseconds_and_now(void **state)
{
    (void)state;
    log_set_clock(NULL);
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    time_t before = time(NULL);
    log_error("real clock");
    time_t after = time(NULL);

    char *text = file_read(path);
    assert_non_null(text);
    regex_t shape;
    assert_int_equal(regcomp(&shape,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z "
                             "ERROR " PROGRAM " test_log\\.c:[0-9]+ real clock\n$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    int matched = regexec(&shape, text, 0, NULL, 0);
    regfree(&shape);
    assert_int_equal(matched, 0);

    struct tm calendar = {0};
    char *rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &calendar);
    assert_non_null(rest);
    time_t logged = timegm(&calendar);
    assert_true(logged >= before && logged <= after);
    free(text);
}

static void newlines_in_a_message_are_escaped_so_one_call_is_one_line(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    log_info("first\nsecond\r\nthird\n\n");

    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 1);
    assert_string_equal(line_message(lines->lines[0]), "first\\nsecond\\r\\nthird");
    file_lines_free(lines);
}

static void overlong_message_is_cut_to_the_line_cap_with_a_marker(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    static char long_message[40000];
    memset(long_message, 'x', sizeof long_message - 1);
    log_info("%s", long_message);

    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 1);
    size_t line_len = strlen(lines->lines[0]) + 1; /* with its newline */
    assert_true(line_len <= LOG_LINE_MAX);
    assert_true(line_len > LOG_LINE_MAX - 300);
    const char *marker = "\xe2\x80\xa6[truncated]";
    const char *message = line_message(lines->lines[0]);
    size_t message_len = strlen(message);
    assert_string_equal(message + message_len - strlen(marker), marker);
    assert_int_equal(strspn(message, "x"), message_len - strlen(marker));
    file_lines_free(lines);
}

static void truncation_never_splits_a_utf8_character(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    /* "é" is two bytes; the cut falls inside one of them for either parity of the budget, in
       one of the two lines (the second starts with one "x" to shift the parity). */
    static char two_byte_chars[40001];
    for (size_t i = 0; i + 1 < sizeof two_byte_chars; i += 2)
        memcpy(two_byte_chars + i, "\xc3\xa9", 2);
    log_info("%s", two_byte_chars);
    log_info("x%s", two_byte_chars);

    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 2);
    const char *marker = "\xe2\x80\xa6[truncated]";
    for (size_t i = 0; i < 2; i++) {
        const char *message = line_message(lines->lines[i]) + i; /* past the "x" */
        size_t text_len = strlen(message) - strlen(marker);
        assert_string_equal(message + text_len, marker);
        assert_int_equal(text_len % 2, 0);
        assert_memory_equal(message + text_len - 2, "\xc3\xa9", 2);
    }
    file_lines_free(lines);
}

static void newline_escapes_that_overflow_the_cap_are_cut_with_a_marker(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    /* 16000 bytes fit before escaping, 24000 after. */
    static char lines_of_a[16001];
    for (size_t i = 0; i + 1 < sizeof lines_of_a; i += 2)
        memcpy(lines_of_a + i, "a\n", 2);
    log_info("%s", lines_of_a);

    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 1);
    assert_true(strlen(lines->lines[0]) + 1 <= LOG_LINE_MAX);
    const char *marker = "\xe2\x80\xa6[truncated]";
    const char *message = line_message(lines->lines[0]);
    size_t text_len = strlen(message) - strlen(marker);
    assert_string_equal(message + text_len, marker);
    for (size_t i = 0; i < text_len; i++) /* whole "a\n" units only, never a lone backslash */
        assert_int_equal(message[i], "a\\n"[i % 3]);
    file_lines_free(lines);
}

/* ---- Levels and outputs --------------------------------------------------------------------- */

static void lines_below_the_level_are_discarded(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.level = LOG_WARN;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    log_debug("debug line");
    log_info("info line");
    log_warn("warn line");
    log_error("error line");

    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 2);
    assert_string_equal(line_message(lines->lines[0]), "warn line");
    assert_string_equal(line_message(lines->lines[1]), "error line");
    file_lines_free(lines);
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.lines, 2);
    assert_false(log_level_enabled(LOG_INFO));
    assert_true(log_level_enabled(LOG_WARN));
}

static void debug_level_writes_every_level_with_its_name(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.level = LOG_DEBUG;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    log_debug("d");
    log_info("i");
    log_warn("w");
    log_error("e");

    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 4);
    const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    for (size_t i = 0; i < 4; i++) {
        char level[16];
        line_field(lines->lines[i], 1, level, sizeof level);
        assert_string_equal(level, names[i]);
    }
    file_lines_free(lines);
}

static void warn_file_gets_only_warn_and_error_lines(void **state)
{
    (void)state;
    char path[PATH_MAX], warn_path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    path_in_test_dir(warn_path, "warn.log");
    opts.warn_file = warn_path;
    opts.level = LOG_DEBUG;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    log_debug("d");
    log_info("i");
    log_warn("w");
    log_error("e");

    file_lines_t *all = file_lines_read(path);
    file_lines_t *warn = file_lines_read(warn_path);
    assert_int_equal(all->count, 4);
    assert_int_equal(warn->count, 2);
    assert_string_equal(warn->lines[0], all->lines[2]);
    assert_string_equal(warn->lines[1], all->lines[3]);
    file_lines_free(all);
    file_lines_free(warn);
}

static void stderr_gets_every_line_unless_to_stderr_is_zero(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.to_stderr = 1;
    stderr_capture_start();
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    log_info("to both");
    opts.to_stderr = 0;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    log_info("to the file only");
    char *captured = stderr_capture_stop();

    char *file_text = file_read(path);
    assert_non_null(file_text);
    assert_int_equal(occurrences(file_text, "\n"), 2);
    const char *second_line = strchr(file_text, '\n') + 1;
    *(char *)second_line = '\0'; /* the first line only */
    assert_string_equal(captured, file_text);
    assert_null(strstr(captured, "to the file only"));
    free(captured);
    free(file_text);
}

static void logging_before_log_open_goes_to_stderr(void **state)
{
    (void)state;
    stderr_capture_start();
    log_info("early line");
    log_debug("early debug line"); /* below the default level */
    char *captured = stderr_capture_stop();
    assert_int_equal(occurrences(captured, "\n"), 1);
    assert_non_null(strstr(captured, " INFO "));
    assert_non_null(strstr(captured, "early line\n"));
    free(captured);
}

static void
log_open_again_writes_pending_reports_then_switches_files_and_keeps_counters(void **state)
{
    (void)state;
    char first_path[PATH_MAX], second_path[PATH_MAX];
    log_options_t opts = options_to_file(first_path, "first.log");
    opts.rate_limit_burst = 1;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    for (int i = 0; i < 3; i++)
        log_from_site_a(i);
    opts = options_to_file(second_path, "second.log");
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    log_info("after reload");

    file_lines_t *first = file_lines_read(first_path);
    file_lines_t *second = file_lines_read(second_path);
    assert_int_equal(first->count, 2);
    assert_string_equal(line_message(first->lines[1]),
                        "site a message 2 (\xe2\x80\xa6repeated 2 times)");
    assert_int_equal(second->count, 1);
    assert_string_equal(line_message(second->lines[0]), "after reload");
    file_lines_free(first);
    file_lines_free(second);
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.lines, 3);
    assert_int_equal(stats.suppressed, 2);
}

/* ---- Rotation ------------------------------------------------------------------------------- */

static void rotation_keeps_max_files_each_within_max_bytes_oldest_gone_newest_kept(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.max_bytes = 1000;
    opts.max_files = 3;
    opts.rate_limit_burst = 0;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    log_info("rotation line %04d %s", 0, "padding-padding-padding-padding");
    uint64_t line_len = file_size(path);
    for (int i = 1; i < 100; i++)
        log_info("rotation line %04d %s", i, "padding-padding-padding-padding");

    uint64_t lines_per_file = 1000 / line_len;
    uint64_t files_needed = (100 + lines_per_file - 1) / lines_per_file;
    assert_true(files_needed > 4); /* the test must rotate past max_files */
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.rotations, files_needed - 1);

    /* Oldest first: app.log.3, .2, .1, app.log — numbers consecutive, ending with the last. */
    const char *suffixes[] = {".3", ".2", ".1", ""};
    int expected_number = -1;
    size_t lines_kept = 0;
    for (size_t f = 0; f < 4; f++) {
        char name[PATH_MAX + 8];
        snprintf(name, sizeof name, "%s%s", path, suffixes[f]);
        assert_true(file_size(name) <= 1000);
        file_lines_t *lines = file_lines_read(name);
        assert_true(lines->count >= 1);
        if (f < 3)
            assert_int_equal(lines->count, lines_per_file);
        for (size_t i = 0; i < lines->count; i++) {
            int number = -1;
            assert_int_equal(sscanf(line_message(lines->lines[i]), "rotation line %d", &number), 1);
            if (expected_number >= 0)
                assert_int_equal(number, expected_number);
            expected_number = number + 1;
        }
        lines_kept += lines->count;
        file_lines_free(lines);
    }
    assert_int_equal(expected_number, 100); /* the newest line is in app.log */
    assert_true(lines_kept < 100);          /* so line 0000 is gone */
    char beyond[PATH_MAX + 8];
    snprintf(beyond, sizeof beyond, "%s.4", path);
    assert_false(file_exists(beyond));
}

static void oversized_line_is_written_whole_into_a_fresh_file(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.max_bytes = 200;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    char big[501];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    log_info("short one");
    log_info("%s", big);
    log_info("short two");

    char name[PATH_MAX + 8];
    snprintf(name, sizeof name, "%s.2", path);
    file_lines_t *oldest = file_lines_read(name);
    snprintf(name, sizeof name, "%s.1", path);
    file_lines_t *oversized = file_lines_read(name);
    file_lines_t *newest = file_lines_read(path);
    assert_int_equal(oldest->count, 1);
    assert_string_equal(line_message(oldest->lines[0]), "short one");
    assert_int_equal(oversized->count, 1);
    assert_string_equal(line_message(oversized->lines[0]), big);
    assert_int_equal(newest->count, 1);
    assert_string_equal(line_message(newest->lines[0]), "short two");
    file_lines_free(oldest);
    file_lines_free(oversized);
    file_lines_free(newest);
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.rotations, 2);
}

static void oversized_line_into_an_empty_file_does_not_rotate_it(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.max_bytes = 200;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    char big[501];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    log_info("%s", big);

    char rotated[PATH_MAX + 8];
    snprintf(rotated, sizeof rotated, "%s.1", path);
    assert_false(file_exists(rotated)); /* no empty rotated file */
    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 1);
    assert_string_equal(line_message(lines->lines[0]), big);
    file_lines_free(lines);
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.rotations, 0);
}

static void existing_file_size_counts_toward_rotation(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.max_bytes = 1000;
    char previous_run[951];
    memset(previous_run, 'p', sizeof previous_run - 1);
    previous_run[sizeof previous_run - 2] = '\n';
    previous_run[sizeof previous_run - 1] = '\0';
    file_write(path, previous_run, strlen(previous_run));
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    log_info("this line would take the file past 1000 bytes");

    char rotated[PATH_MAX + 8];
    snprintf(rotated, sizeof rotated, "%s.1", path);
    char *rotated_text = file_read(rotated);
    assert_non_null(rotated_text);
    assert_string_equal(rotated_text, previous_run);
    free(rotated_text);
    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 1);
    assert_string_equal(line_message(lines->lines[0]),
                        "this line would take the file past 1000 bytes");
    file_lines_free(lines);
}

static void file_is_appended_to_and_created_with_mode_0640(void **state)
{
    (void)state;
    mode_t previous_umask = umask(022);
    char path[PATH_MAX], new_path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    path_in_test_dir(new_path, "new.log");
    opts.warn_file = new_path;
    file_write(path, "from before\n", strlen("from before\n"));
    int opened = log_open(PROGRAM, &opts);
    umask(previous_umask);
    assert_int_equal(opened, 0);
    log_warn("appended");

    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 2);
    assert_string_equal(lines->lines[0], "from before");
    assert_string_equal(line_message(lines->lines[1]), "appended");
    file_lines_free(lines);
    struct stat status;
    assert_int_equal(stat(new_path, &status), 0);
    assert_int_equal(status.st_mode & 0777, 0640);
}

static void max_files_zero_truncates_the_file_instead_of_keeping_rotated_ones(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.max_bytes = 300;
    opts.max_files = 0;
    opts.rate_limit_burst = 0;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    uint64_t line_len = 0;
    for (int i = 0; i < 10; i++) {
        log_info("truncation line %d", i);
        if (i == 0)
            line_len = file_size(path);
        assert_true(file_size(path) <= 300);
    }

    uint64_t lines_per_file = 300 / line_len;
    uint64_t truncations = (10 + lines_per_file - 1) / lines_per_file - 1;
    assert_true(truncations >= 2);
    char rotated[PATH_MAX + 8];
    snprintf(rotated, sizeof rotated, "%s.1", path);
    assert_false(file_exists(rotated));
    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 10 - truncations * lines_per_file);
    assert_string_equal(line_message(lines->lines[lines->count - 1]), "truncation line 9");
    file_lines_free(lines);
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.rotations, truncations);
}

static void non_regular_file_is_never_rotated(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "fifo");
    opts.max_bytes = 10;
    assert_int_equal(mkfifo(path, 0600), 0);
    int reader = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    assert_true(reader >= 0);
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    log_info("through the fifo 1");
    log_info("through the fifo 2");

    char received[1024];
    ssize_t got = read(reader, received, sizeof received - 1);
    assert_int_equal(close(reader), 0);
    assert_true(got > 0);
    received[got] = '\0';
    assert_int_equal(occurrences(received, "through the fifo"), 2);
    char rotated[PATH_MAX + 8];
    snprintf(rotated, sizeof rotated, "%s.1", path);
    assert_false(file_exists(rotated));
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.rotations, 0);
    assert_int_equal(stats.write_errors, 0);
}

/* ---- Rate limiting -------------------------------------------------------------------------- */

static void
rate_limit_writes_burst_then_reports_exact_count_when_site_logs_after_window(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.rate_limit_burst = 3;
    opts.rate_limit_window_ms = 1000;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    for (int i = 0; i < 10; i++)
        log_from_site_a(i);
    fake_now_ns += 999 * NS_PER_MS; /* still inside the window */
    log_from_site_a(10);
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.lines, 3);
    assert_int_equal(stats.suppressed, 8);

    fake_now_ns += 1 * NS_PER_MS; /* the window has ended */
    log_from_site_a(11);

    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 5);
    for (int i = 0; i < 3; i++) {
        char expected[64];
        snprintf(expected, sizeof expected, "site a message %d", i);
        assert_string_equal(line_message(lines->lines[i]), expected);
    }
    assert_string_equal(line_message(lines->lines[3]),
                        "site a message 10 (\xe2\x80\xa6repeated 8 times)");
    assert_string_equal(line_message(lines->lines[4]), "site a message 11");
    char level[16], site[64], first_site[64];
    line_field(lines->lines[3], 1, level, sizeof level);
    assert_string_equal(level, "WARN");
    line_field(lines->lines[3], 3, site, sizeof site);
    line_field(lines->lines[0], 3, first_site, sizeof first_site);
    assert_string_equal(site, first_site);
    file_lines_free(lines);
    log_stats(&stats);
    assert_int_equal(stats.lines, 5);
    assert_int_equal(stats.suppressed, 8);
}

static void log_flush_reports_suppressed_lines_only_after_the_window_ended(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.rate_limit_burst = 2;
    opts.rate_limit_window_ms = 1000;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    for (int i = 0; i < 5; i++)
        log_from_site_a(i);
    fake_now_ns += 500 * NS_PER_MS;
    log_flush();
    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 2);
    file_lines_free(lines);

    fake_now_ns += 500 * NS_PER_MS;
    log_flush();
    log_flush(); /* a second flush has nothing more to say */
    lines = file_lines_read(path);
    assert_int_equal(lines->count, 3);
    assert_string_equal(line_message(lines->lines[2]),
                        "site a message 4 (\xe2\x80\xa6repeated 3 times)");
    file_lines_free(lines);

    log_from_site_a(5); /* a new window: written, no second report */
    lines = file_lines_read(path);
    assert_int_equal(lines->count, 4);
    assert_string_equal(line_message(lines->lines[3]), "site a message 5");
    file_lines_free(lines);
}

static void log_close_reports_suppressed_lines_before_the_window_ends(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.rate_limit_burst = 1;
    opts.rate_limit_window_ms = 60000;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    for (int i = 0; i < 4; i++)
        log_from_site_a(i);
    log_close();

    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 2);
    assert_string_equal(line_message(lines->lines[1]),
                        "site a message 3 (\xe2\x80\xa6repeated 3 times)");
    file_lines_free(lines);
}

static void call_sites_are_rate_limited_independently(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.rate_limit_burst = 2;
    opts.rate_limit_window_ms = 1000;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    for (int i = 0; i < 5; i++) {
        log_from_site_a(i);
        log_from_site_b(i);
    }
    for (int i = 5; i < 7; i++) /* b alone goes on: a's silence does not buy b more */
        log_from_site_b(i);
    fake_now_ns += 1000 * NS_PER_MS;
    log_flush();

    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 6);
    assert_string_equal(line_message(lines->lines[0]), "site a message 0");
    assert_string_equal(line_message(lines->lines[1]), "site b message 0");
    assert_string_equal(line_message(lines->lines[2]), "site a message 1");
    assert_string_equal(line_message(lines->lines[3]), "site b message 1");
    const char *report_a = "site a message 4 (\xe2\x80\xa6repeated 3 times)";
    const char *report_b = "site b message 6 (\xe2\x80\xa6repeated 5 times)";
    const char *report_first = line_message(lines->lines[4]);
    const char *report_second = line_message(lines->lines[5]);
    assert_true((strcmp(report_first, report_a) == 0 && strcmp(report_second, report_b) == 0) ||
                (strcmp(report_first, report_b) == 0 && strcmp(report_second, report_a) == 0));
    file_lines_free(lines);
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.suppressed, 8);
}

static void burst_zero_disables_rate_limiting(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.rate_limit_burst = 0;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    for (int i = 0; i < 1000; i++)
        log_from_site_a(i);
    log_close();

    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 1000);
    file_lines_free(lines);
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.lines, 1000);
    assert_int_equal(stats.suppressed, 0);
}

static void full_site_table_falls_back_to_writing(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.rate_limit_burst = 1;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    /* 300 sites (same file, different lines); the table holds 256 of them. */
    for (int site = 0; site < 300; site++)
        for (int repeat = 0; repeat < 2; repeat++)
            log_write(LOG_INFO, __FILE__, 10000 + site, "site %d repeat %d", site, repeat);
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.suppressed, 256);
    assert_int_equal(stats.lines, 256 + 2 * 44);
    log_close();

    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 600); /* every line, or its "repeated 1 times" */
    file_lines_free(lines);
}

/* ---- Errors --------------------------------------------------------------------------------- */

static void unopenable_file_fails_log_open_and_logging_goes_on_to_stderr(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "missing-dir/app.log");
    opts.to_stderr = 1;
    stderr_capture_start();
    assert_int_equal(log_open(PROGRAM, &opts), -1);
    log_warn("still logging");
    char *captured = stderr_capture_stop();

    assert_int_equal(occurrences(captured, "cannot open"), 1);
    assert_non_null(strstr(captured, path));
    assert_non_null(strstr(captured, strerror(ENOENT)));
    assert_non_null(strstr(captured, "WARN " PROGRAM " test_log.c:"));
    assert_non_null(strstr(captured, " still logging\n"));
    free(captured);
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.lines, 1);
    assert_int_equal(stats.write_errors, 1); /* the line the file did not get */
}

static void full_disk_counts_write_errors_and_reports_them_once_a_minute(void **state)
{
    (void)state;
    /* Linux always has /dev/full; without it this behaviour cannot be shown, which is a
       failure, not a pass. */
    assert_int_equal(access("/dev/full", W_OK), 0);
    log_options_t opts;
    log_options_default(&opts);
    opts.to_stderr = 0;
    opts.file = "/dev/full"; /* every write fails with ENOSPC */
    stderr_capture_start();
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    for (int i = 0; i < 5; i++)
        log_info("into a full disk %d", i);
    fake_now_ns += 59 * NS_PER_SECOND;
    log_info("a minute not yet over");
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.write_errors, 6);
    fake_now_ns += 1 * NS_PER_SECOND;
    log_info("a minute later");
    char *captured = stderr_capture_stop();

    assert_int_equal(occurrences(captured, strerror(ENOSPC)), 2);
    assert_int_equal(occurrences(captured, "/dev/full"), 2);
    assert_null(strstr(captured, "into a full disk")); /* to_stderr is 0 */
    free(captured);
    log_stats(&stats);
    assert_int_equal(stats.lines, 7);
    assert_int_equal(stats.write_errors, 7);
    assert_int_equal(stats.rotations, 0);
}

static void removed_directory_fails_rotation_and_counts_write_errors(void **state)
{
    (void)state;
    char directory[PATH_MAX], path[PATH_MAX];
    path_in_test_dir(directory, "sub");
    assert_int_equal(mkdir(directory, 0700), 0);
    log_options_t opts = options_to_file(path, "sub/app.log");
    opts.max_bytes = 300;
    opts.to_stderr = 1;
    opts.rate_limit_burst = 0;
    stderr_capture_start();
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    log_info("before the directory went away");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(directory), 0);
    for (int i = 0; i < 5; i++)
        log_info("after the directory went away %d", i);
    char *captured = stderr_capture_stop();

    log_stats_t stats;
    log_stats(&stats);
    assert_true(stats.write_errors >= 1);
    assert_int_equal(stats.rotations, 0);
    assert_int_equal(stats.lines, 6);
    assert_int_equal(occurrences(captured, path), 1);
    assert_non_null(strstr(captured, strerror(ENOENT)));
    assert_non_null(strstr(captured, "after the directory went away 4\n")); /* stderr goes on */
    free(captured);
}

static void file_is_reopened_once_its_directory_returns(void **state)
{
    (void)state;
    char directory[PATH_MAX], path[PATH_MAX];
    path_in_test_dir(directory, "sub");
    assert_int_equal(mkdir(directory, 0700), 0);
    log_options_t opts = options_to_file(path, "sub/app.log");
    opts.max_bytes = 150;
    stderr_capture_start();
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    log_info("first line, long enough to fill half of the file");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(directory), 0);
    log_info("second line, which makes the rotation fail");
    log_info("third line, lost as well");
    assert_int_equal(mkdir(directory, 0700), 0);
    log_info("fourth line, too soon to try again");
    fake_now_ns += NS_PER_SECOND;
    log_info("fifth line, written again");
    char *captured = stderr_capture_stop();
    free(captured);

    file_lines_t *lines = file_lines_read(path);
    assert_int_equal(lines->count, 1);
    assert_string_equal(line_message(lines->lines[0]), "fifth line, written again");
    file_lines_free(lines);
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.write_errors, 3);
}

/* ---- Threads -------------------------------------------------------------------------------- */

enum { WRITER_THREADS = 4, LINES_PER_WRITER = 2000 };

static void *writer_thread(void *argument)
{
    int writer = (int)(intptr_t)argument;
    for (int i = 0; i < LINES_PER_WRITER; i++)
        log_info("writer %d line %d", writer, i);
    return NULL;
}

static void concurrent_threads_write_whole_lines_in_order(void **state)
{
    (void)state;
    char path[PATH_MAX];
    log_options_t opts = options_to_file(path, "app.log");
    opts.rate_limit_burst = 0;
    opts.max_bytes = 64 * 1024; /* rotations under contention too */
    opts.max_files = 1000;
    assert_int_equal(log_open(PROGRAM, &opts), 0);
    pthread_t threads[WRITER_THREADS];
    for (int t = 0; t < WRITER_THREADS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, writer_thread, (void *)(intptr_t)t), 0);
    for (int t = 0; t < WRITER_THREADS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    log_stats_t stats;
    log_stats(&stats);
    assert_int_equal(stats.lines, WRITER_THREADS * LINES_PER_WRITER);
    assert_true(stats.rotations > 0);

    int next_line[WRITER_THREADS] = {0};
    for (int n = (int)stats.rotations; n >= 0; n--) { /* oldest file first */
        char name[PATH_MAX + 16];
        if (n > 0)
            snprintf(name, sizeof name, "%s.%d", path, n);
        else
            snprintf(name, sizeof name, "%s", path);
        assert_true(file_size(name) <= 64 * 1024);
        file_lines_t *lines = file_lines_read(name);
        for (size_t i = 0; i < lines->count; i++) {
            int writer = -1, number = -1;
            assert_int_equal(
                sscanf(line_message(lines->lines[i]), "writer %d line %d", &writer, &number), 2);
            assert_true(writer >= 0 && writer < WRITER_THREADS);
            assert_int_equal(number, next_line[writer]);
            next_line[writer]++;
        }
        file_lines_free(lines);
    }
    for (int t = 0; t < WRITER_THREADS; t++)
        assert_int_equal(next_line[t], LINES_PER_WRITER);
}

/* ---- Names and defaults --------------------------------------------------------------------- */

static void level_names_parse_in_any_case_and_print_in_capitals(void **state)
{
    (void)state;
    log_level_t level = LOG_ERROR;
    assert_int_equal(log_level_parse("debug", &level), 0);
    assert_int_equal(level, LOG_DEBUG);
    assert_int_equal(log_level_parse("INFO", &level), 0);
    assert_int_equal(level, LOG_INFO);
    assert_int_equal(log_level_parse("Warn", &level), 0);
    assert_int_equal(level, LOG_WARN);
    assert_int_equal(log_level_parse("warning", &level), 0);
    assert_int_equal(level, LOG_WARN);
    assert_int_equal(log_level_parse("error", &level), 0);
    assert_int_equal(level, LOG_ERROR);
    level = LOG_INFO;
    assert_int_equal(log_level_parse("verbose", &level), -1);
    assert_int_equal(log_level_parse("", &level), -1);
    assert_int_equal(log_level_parse(NULL, &level), -1);
    assert_int_equal(level, LOG_INFO);

    assert_string_equal(log_level_name(LOG_DEBUG), "DEBUG");
    assert_string_equal(log_level_name(LOG_INFO), "INFO");
    assert_string_equal(log_level_name(LOG_WARN), "WARN");
    assert_string_equal(log_level_name(LOG_ERROR), "ERROR");
    assert_string_equal(log_level_name((log_level_t)42), "UNKNOWN");
    for (int l = LOG_DEBUG; l <= LOG_ERROR; l++) {
        assert_int_equal(log_level_parse(log_level_name((log_level_t)l), &level), 0);
        assert_int_equal(level, l);
    }
}

static void options_default_are_info_stderr_100mib_5_files_100_lines_per_10s(void **state)
{
    (void)state;
    log_options_t opts;
    memset(&opts, 0xAB, sizeof opts);
    log_options_default(&opts);
    assert_int_equal(opts.level, LOG_INFO);
    assert_null(opts.file);
    assert_null(opts.warn_file);
    assert_int_equal(opts.max_bytes, 100 * 1024 * 1024);
    assert_int_equal(opts.max_files, 5);
    assert_int_equal(opts.rate_limit_burst, 100);
    assert_int_equal(opts.rate_limit_window_ms, 10000);
    assert_true(opts.to_stderr);
}

#define LOG_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        LOG_TEST(line_has_utc_time_level_program_basename_line_and_message),
        LOG_TEST(line_time_from_real_clock_is_iso_utc_with_microseconds_and_now),
        LOG_TEST(newlines_in_a_message_are_escaped_so_one_call_is_one_line),
        LOG_TEST(overlong_message_is_cut_to_the_line_cap_with_a_marker),
        LOG_TEST(truncation_never_splits_a_utf8_character),
        LOG_TEST(newline_escapes_that_overflow_the_cap_are_cut_with_a_marker),
        LOG_TEST(lines_below_the_level_are_discarded),
        LOG_TEST(debug_level_writes_every_level_with_its_name),
        LOG_TEST(warn_file_gets_only_warn_and_error_lines),
        LOG_TEST(stderr_gets_every_line_unless_to_stderr_is_zero),
        LOG_TEST(logging_before_log_open_goes_to_stderr),
        LOG_TEST(log_open_again_writes_pending_reports_then_switches_files_and_keeps_counters),
        LOG_TEST(rotation_keeps_max_files_each_within_max_bytes_oldest_gone_newest_kept),
        LOG_TEST(oversized_line_is_written_whole_into_a_fresh_file),
        LOG_TEST(oversized_line_into_an_empty_file_does_not_rotate_it),
        LOG_TEST(existing_file_size_counts_toward_rotation),
        LOG_TEST(file_is_appended_to_and_created_with_mode_0640),
        LOG_TEST(max_files_zero_truncates_the_file_instead_of_keeping_rotated_ones),
        LOG_TEST(non_regular_file_is_never_rotated),
        LOG_TEST(rate_limit_writes_burst_then_reports_exact_count_when_site_logs_after_window),
        LOG_TEST(log_flush_reports_suppressed_lines_only_after_the_window_ended),
        LOG_TEST(log_close_reports_suppressed_lines_before_the_window_ends),
        LOG_TEST(call_sites_are_rate_limited_independently),
        LOG_TEST(burst_zero_disables_rate_limiting),
        LOG_TEST(full_site_table_falls_back_to_writing),
        LOG_TEST(unopenable_file_fails_log_open_and_logging_goes_on_to_stderr),
        LOG_TEST(full_disk_counts_write_errors_and_reports_them_once_a_minute),
        LOG_TEST(removed_directory_fails_rotation_and_counts_write_errors),
        LOG_TEST(file_is_reopened_once_its_directory_returns),
        LOG_TEST(concurrent_threads_write_whole_lines_in_order),
        LOG_TEST(level_names_parse_in_any_case_and_print_in_capitals),
        LOG_TEST(options_default_are_info_stderr_100mib_5_files_100_lines_per_10s),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}

/*
 * tc_out.c — result lines of bookcast-testclient; see tc_out.h. Every write is checked: a test
 * that trusts these lines must learn when some of them were lost (a full disk, a closed pipe).
 */
#include "tc_out.h"

#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

int tc_out_open(tc_out_t *out, const char *path)
{
    memset(out, 0, sizeof *out);
    if (path == NULL || strcmp(path, "-") == 0) {
        out->file = stdout;
        return 0;
    }
    out->file = fopen(path, "w");
    if (out->file == NULL) {
        log_error("cannot open --out %s: %s", path, strerror(errno));
        return -1;
    }
    out->owns_file = true;
    return 0;
}

static void note_write_error(tc_out_t *out)
{
    if (!out->write_failed)
        log_error("writing the result lines failed: %s", strerror(errno));
    out->write_failed = true;
}

int tc_out_close(tc_out_t *out)
{
    if (out->file == NULL)
        return 0;
    if (fflush(out->file) != 0)
        note_write_error(out);
    if (out->owns_file && fclose(out->file) != 0)
        note_write_error(out);
    out->file = NULL;
    return out->write_failed ? -1 : 0;
}

void tc_out_line(tc_out_t *out, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int n = vfprintf(out->file, fmt, args);
    va_end(args);
    if (n < 0 || fputc('\n', out->file) == EOF || fflush(out->file) != 0)
        note_write_error(out);
}

void tc_out_payload(tc_out_t *out, const char *head, const char *payload, size_t len)
{
    bool ok = fputs(head, out->file) != EOF && fputc(' ', out->file) != EOF;
    size_t start = 0;
    for (size_t i = 0; ok && i <= len; i++) {
        if (i < len && payload[i] != '\n')
            continue;
        if (i > start && fwrite(payload + start, 1, i - start, out->file) != i - start)
            ok = false;
        if (ok && i < len) {
            ok = fputs("\\n", out->file) != EOF;
            out->newlines_escaped++;
        }
        start = i + 1;
    }
    if (!ok || fputc('\n', out->file) == EOF || fflush(out->file) != 0)
        note_write_error(out);
}

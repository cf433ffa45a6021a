/*
 * docdump.h — the byte dumps in docs/frames.md, read back by the unit tests that check them.
 *
 * docs/frames.md shows frames as `xxd -g 1` dumps, each after a marker line
 * "<!-- <kind>: <name> -->". A test reads the dump and compares it with what the code writes,
 * so the documentation cannot drift from the encoder. Included by the tests that need it.
 */
#ifndef BOOKCAST_TEST_DOCDUMP_H
#define BOOKCAST_TEST_DOCDUMP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

/* The bytes of the dump after "<!-- kind: name -->" in doc, into out (cap bytes). Fails the test
   when the dump is missing or malformed. */
static inline size_t docdump_read(const char *doc, const char *kind, const char *name, uint8_t *out,
                                  size_t cap)
{
    char marker[96];
    snprintf(marker, sizeof marker, "<!-- %s: %s -->\n```\n", kind, name);
    const char *p = strstr(doc, marker);
    if (p == NULL)
        fail_msg("docs/frames.md has no dump \"%s\"", name);
    p += strlen(marker);
    size_t n = 0;
    while (strncmp(p, "```", 3) != 0) {
        unsigned offset;
        int used;
        if (sscanf(p, "%8x: %n", &offset, &used) != 1 || offset != n)
            fail_msg("dump \"%s\": bad line at byte %zu", name, n);
        p += used;
        for (int i = 0; i < 16 && p[0] != ' ' && p[0] != '\n'; i++) {
            unsigned byte;
            if (sscanf(p, "%2x", &byte) != 1 || n == cap)
                fail_msg("dump \"%s\": bad byte at %zu", name, n);
            out[n++] = (uint8_t)byte;
            p += (p[2] == ' ') ? 3 : 2;
        }
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    return n;
}

#endif

/*
 * simtest.c — helpers shared by the integration tests of bookcast-sim; see simtest.h.
 */
#include "simtest.h"

#include "now.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *simtest_ws_url(const simproc_t *sim, market_t market, const char *path, char *buf,
                           size_t len)
{
    return simproc_url(sim, market, false, path, buf, len);
}

const char *simtest_http_url(const simproc_t *sim, market_t market, const char *path, char *buf,
                             size_t len)
{
    return simproc_url(sim, market, true, path, buf, len);
}

int simtest_get(const simproc_t *sim, market_t market, const char *path, tc_get_result_t *out)
{
    char url[1024];
    simtest_http_url(sim, market, path, url, sizeof url);
    tc_get(url, simproc_ca(sim), SIMTEST_GET_TIMEOUT_MS, out);
    return out->status;
}

int simtest_fault(const simproc_t *sim, market_t market, const char *query)
{
    char path[512];
    snprintf(path, sizeof path, "/_sim/fault?%s", query);
    tc_get_result_t r;
    int status = simtest_get(sim, market, path, &r);
    if (status != 200)
        fprintf(stderr, "simtest: %s answered %d %s\n", path, status, r.body ? r.body : r.error);
    tc_get_result_free(&r);
    return status;
}

int simtest_clear(const simproc_t *sim)
{
    tc_get_result_t r;
    int status = simtest_get(sim, MARKET_SPOT, "/_sim/clear", &r);
    tc_get_result_free(&r);
    return status;
}

uint64_t simtest_conn_id(const simproc_t *sim, market_t market, const char *path)
{
    tc_get_result_t r;
    uint64_t id = 0;
    if (simtest_get(sim, market, "/_sim/status", &r) == 200) {
        cJSON *root = cJSON_ParseWithLength(r.body, r.body_len);
        const cJSON *conns = cJSON_GetObjectItemCaseSensitive(root, "connections");
        const cJSON *c;
        cJSON_ArrayForEach(c, conns)
        {
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "path");
            if (cJSON_IsString(p) && strcmp(p->valuestring, path) == 0 && simtest_u64(c, "id", &id))
                break;
        }
        cJSON_Delete(root);
    }
    tc_get_result_free(&r);
    return id;
}

cJSON *simtest_json(const tc_event_t *event)
{
    if (event == NULL || event->kind != TC_EV_TEXT || event->data == NULL)
        return NULL;
    return cJSON_ParseWithLength(event->data, event->len);
}

const cJSON *simtest_data(const cJSON *frame, const char **stream)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(frame, "stream");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(frame, "data");
    if (cJSON_IsString(s) && cJSON_IsObject(d)) {
        if (stream != NULL)
            *stream = s->valuestring;
        return d;
    }
    if (stream != NULL)
        *stream = NULL;
    return frame;
}

bool simtest_u64(const cJSON *obj, const char *key, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (d < 0 || d > 9007199254740992.0 || floor(d) != d)
        return false;
    *out = (uint64_t)d;
    return true;
}

bool simtest_depth(const tc_event_t *event, simtest_depth_t *out)
{
    memset(out, 0, sizeof *out);
    cJSON *root = simtest_json(event);
    if (root == NULL)
        return false;
    const char *stream = NULL;
    const cJSON *d = simtest_data(root, &stream);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(d, "e");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(d, "s");
    bool ok = cJSON_IsString(e) && strcmp(e->valuestring, "depthUpdate") == 0 &&
              cJSON_IsString(s) && simtest_u64(d, "U", &out->U) && simtest_u64(d, "u", &out->u);
    if (ok) {
        snprintf(out->symbol, sizeof out->symbol, "%s", s->valuestring);
        snprintf(out->stream, sizeof out->stream, "%s", stream ? stream : "");
        out->has_pu = simtest_u64(d, "pu", &out->pu);
    }
    cJSON_Delete(root);
    return ok;
}

size_t simtest_depth_events(const tc_evlist_t *events, int conn, const char *symbol, size_t from,
                            simtest_depth_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = from; i < events->n && n < max; i++) {
        const tc_event_t *e = &events->v[i];
        if (e->kind != TC_EV_TEXT || (conn >= 0 && e->conn != conn))
            continue;
        simtest_depth_t d;
        if (simtest_depth(e, &d) && (symbol == NULL || strcmp(d.symbol, symbol) == 0))
            out[n++] = d;
    }
    return n;
}

bool simtest_until_texts(const tc_evlist_t *events, void *arg)
{
    const simtest_want_t *want = arg;
    size_t n = 0;
    for (size_t i = 0; i < events->n; i++) {
        const tc_event_t *e = &events->v[i];
        if (e->kind != TC_EV_TEXT || (want->conn >= 0 && e->conn != want->conn))
            continue;
        if (want->symbol != NULL) {
            simtest_depth_t d;
            if (!simtest_depth(e, &d) || strcmp(d.symbol, want->symbol) != 0)
                continue;
        }
        if (++n >= want->texts)
            return true;
    }
    return false;
}

void simtest_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void simtest_avoid_minute_boundary(int margin_s)
{
    int64_t ms_into_minute = (now_realtime_ns() / 1000000) % 60000;
    int64_t left = 60000 - ms_into_minute;
    if (left < (int64_t)margin_s * 1000)
        simtest_sleep_ms(left + 100);
}

void simtest_avoid_connrate_boundary(int margin_s)
{
    int64_t left = 300000 - now_monotonic_ms() % 300000;
    if (left < (int64_t)margin_s * 1000)
        simtest_sleep_ms(left + 100);
}

void simtest_dump(const tc_evlist_t *events, size_t max_payload)
{
    fprintf(stderr, "--- %zu events (stop %d after %" PRId64 " ms)\n", events->n, (int)events->stop,
            events->elapsed_ms);
    for (size_t i = 0; i < events->n; i++) {
        const tc_event_t *e = &events->v[i];
        fprintf(stderr, "%5" PRId64 " ms [%d] %-6s %d", e->t_ms, e->conn, tc_ev_kind_name(e->kind),
                e->code);
        if (e->data != NULL)
            fprintf(stderr, " %.*s%s", (int)(e->len < max_payload ? e->len : max_payload), e->data,
                    e->len > max_payload ? "…" : "");
        if (e->http != NULL)
            fprintf(stderr, " %.*s",
                    (int)(e->http->body_len < max_payload ? e->http->body_len : max_payload),
                    e->http->body);
        fputc('\n', stderr);
    }
}

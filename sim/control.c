/*
 * control.c — /_sim/status, /_sim/book, /_sim/fault, /_sim/clear (see control.h). Each answer
 * is JSON; a request the API cannot serve gets 400 or 404 with {"error":…} saying why.
 */
#include "control.h"

#include "faults.h"
#include "log.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "/_sim/"

bool sim_control_owns(const char *path)
{
    return strncmp(path, PREFIX, sizeof PREFIX - 1) == 0;
}

static void respond_owned(sim_http_response_t *resp, int status, char *body)
{
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = body;
    resp->body_len = body ? strlen(body) : 0;
}

static void respond_error(sim_http_response_t *resp, int status, const char *why)
{
    cJSON *o = cJSON_CreateObject();
    char *body = o && cJSON_AddStringToObject(o, "error", why) ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!body) {
        sim_http_respond(resp, 500, "{\"error\":\"out of memory\"}");
        return;
    }
    respond_owned(resp, status, body);
}

static void control_status(sim_server_t *server, market_t market, sim_http_response_t *resp)
{
    char *venue = sim_venue_status_json(sim_server_venue(server, market));
    char *conns = sim_server_connections_json(server, market);
    char *body = NULL;
    if (venue && conns &&
        asprintf(&body, "{\"venue\":%s,\"logical_ms\":%" PRId64 ",\"connections\":%s}", venue,
                 sim_server_logical_now(server), conns) < 0)
        body = NULL;
    free(venue);
    free(conns);
    if (!body) {
        respond_error(resp, 500, "out of memory");
        return;
    }
    respond_owned(resp, 200, body);
}

static void control_book(sim_server_t *server, market_t market, const sim_http_request_t *req,
                         sim_http_response_t *resp)
{
    char symbol[40], id_text[32];
    if (!sim_http_query_get(req->query, "symbol", symbol, sizeof symbol) || !symbol[0]) {
        respond_error(resp, 400, "symbol is required");
        return;
    }
    bool has_id = sim_http_query_get(req->query, "update_id", id_text, sizeof id_text);
    uint64_t id = 0;
    if (has_id) {
        char *end;
        errno = 0;
        id = strtoull(id_text, &end, 10);
        if (!id_text[0] || *end || errno) {
            respond_error(resp, 400, "update_id must be an unsigned integer");
            return;
        }
    }
    char *body = NULL;
    int status = sim_venue_book_json(sim_server_venue(server, market), symbol, has_id, id, &body);
    if (!body) {
        respond_error(resp, 500, "out of memory");
        return;
    }
    respond_owned(resp, status, body);
}

static void control_fault(sim_server_t *server, market_t market, const sim_http_request_t *req,
                          sim_http_response_t *resp)
{
    char name[40];
    if (!sim_http_query_get(req->query, "name", name, sizeof name)) {
        respond_error(resp, 400, "name is required, e.g. /_sim/fault?name=drop");
        return;
    }
    sim_fault_t fault;
    char err[200];
    if (sim_fault_parse(name, req->query, &fault, err, sizeof err) != 0) {
        respond_error(resp, 400, err);
        return;
    }
    if (!fault.market_given)
        fault.market = market;
    int affected = sim_server_apply_fault(server, &fault);
    log_info("sim: control fault %s (%s) from %s: %d affected", name, req->query, req->peer,
             affected);
    char body[200];
    snprintf(body, sizeof body, "{\"result\":\"%s\",\"fault\":\"%s\",\"affected\":%d}",
             affected > 0 ? "ok" : "nothing matched", name, affected);
    sim_http_respond(resp, affected > 0 ? 200 : 404, body);
}

void sim_control_http(sim_server_t *server, market_t market, const sim_http_request_t *req,
                      sim_http_response_t *resp)
{
    const char *what = req->path + sizeof PREFIX - 1;
    if (strcmp(what, "status") == 0) {
        control_status(server, market, resp);
    } else if (strcmp(what, "book") == 0) {
        control_book(server, market, req, resp);
    } else if (strcmp(what, "fault") == 0) {
        control_fault(server, market, req, resp);
    } else if (strcmp(what, "clear") == 0) {
        sim_server_clear_faults(server);
        log_info("sim: control clear from %s: every pending fault cleared", req->peer);
        sim_http_respond(resp, 200, "{\"result\":\"ok\"}");
    } else {
        respond_error(resp, 404, "unknown control endpoint: see docs/sim.md");
    }
}

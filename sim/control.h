/*
 * control.h — the sim's control API: GET /_sim/… on every market listener.
 *
 *   /_sim/status                         the market's counters and its connections
 *   /_sim/book?symbol=S[&update_id=N]    the true book of S after update id N (the truth)
 *   /_sim/fault?name=F[&args]            fire a fault (faults.h); defaults to this market
 *   /_sim/clear                          clear every pending fault, every market
 *
 * The listeners bind to loopback by default; the control API is for tests and operators on the
 * same host, and shares the listener so that a test needs no second port. docs/sim.md documents
 * every endpoint and answer.
 */
#ifndef BOOKCAST_SIM_CONTROL_H
#define BOOKCAST_SIM_CONTROL_H

#include "server.h"
#include "venue.h"

#include <stdbool.h>

/* True when `path` belongs to the control API. */
bool sim_control_owns(const char *path);

/* Answers one control request that arrived on the listener of `market`. */
void sim_control_http(sim_server_t *server, market_t market, const sim_http_request_t *req,
                      sim_http_response_t *resp);

#endif

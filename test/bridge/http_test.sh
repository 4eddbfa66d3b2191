#!/usr/bin/env bash
# The HTTP endpoint of a running sfbridge (issue 17): probes, the status JSON, the metrics, the
# bearer token, and a real Prometheus server scraping it. Every wait is for a condition, with a
# generous deadline.
# Usage: http_test.sh SFBRIDGE SFSIM  (SFBRIDGE_TEST_PG_DSN from ./scripts/test; prometheus
# from Debian's package, which ./scripts/test installs)
set -uo pipefail
SFBRIDGE=$1 SFSIM=$2
: "${SFBRIDGE_TEST_PG_DSN:?run through ./scripts/test}"
PROMETHEUS=$(command -v prometheus || echo /usr/bin/prometheus)
TMP=$(mktemp -d)
SCHEMA=http_$$
TOKEN="http-test-token-$$-secret"
source "$(dirname "$0")/endpoint_lib.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_sfsim "$SFSIM"
curl -sf -X POST "$URL/__sim/records/Contact" -d '[{"LastName":"Before the start"}]' >/dev/null

printf '{"version":1,"mappings":[{"object_name":"Contact","config":{"access":"read_write","sf_notify_enabled":true,"sf_polling_seconds":600,"fields":{"Id":{},"LastName":{}}}}]}' >"$TMP/m.json"
start_sfbridge "$SFBRIDGE" "$TMP/m.json" "$TOKEN"
H="http://$ADDR"
code() { curl -s -o "$TMP/body" -w '%{http_code}' "$@"; }

[[ $(code "$H/healthz") == 200 ]] && ok "/healthz answers 200" || bad "/healthz: $(cat "$TMP/body")"
ready() { [[ $(code "$H/readyz") == 200 ]]; }
if until_ok 120 ready; then ok "/readyz turns 200 once loaded and streaming: $(cat "$TMP/body")"
else bad "/readyz never 200: $(cat "$TMP/body")"; fi

[[ $(code "$H/metrics") == 401 ]] && ok "/metrics without the token: 401" || bad "/metrics without token"
[[ $(code -H "Authorization: Bearer wrong" "$H/status") == 401 ]] && ok "/status with a wrong token: 401" \
    || bad "/status with a wrong token"
AUTH=(-H "Authorization: Bearer $TOKEN")
streaming() { [[ $(code "${AUTH[@]}" "$H/status") == 200 ]] && grep -q '"object":"Contact","table":"contact","state":"streaming"' "$TMP/body"; }
until_ok 60 streaming && ok "/status shows the mapping streaming" || bad "/status: $(cat "$TMP/body")"

# `sfbridge status --json` prints the same document, from the running process.
if SFBRIDGE_HTTP=$ADDR SFBRIDGE_HTTP_TOKEN=$TOKEN "$SFBRIDGE" status --json >"$TMP/status.json" 2>"$TMP/status.err" \
    && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["mappings"][0]["object"] == "Contact"' "$TMP/status.json"; then
    ok "status --json prints /status"
else bad "status --json: $(cat "$TMP/status.err")"; fi
SFBRIDGE_HTTP=$ADDR "$SFBRIDGE" health && ok "health: exit 0 while /healthz answers 200" || bad "health did not exit 0"
SFBRIDGE_HTTP=$ADDR "$SFBRIDGE" status --json >/dev/null 2>"$TMP/status.err"; rc=$?
[[ $rc -eq 2 ]] && grep -q "answered 401 (set SFBRIDGE_HTTP_TOKEN)" "$TMP/status.err" \
    && ok "status --json without the token: exit 2, says why" || bad "status --json without token: $rc $(cat "$TMP/status.err")"

# A change in Salesforce shows in the counters.
stream_count() {
    curl -sf "${AUTH[@]}" "$H/metrics" | sed -n 's/^sfbridge_changes_applied_total{mapping="Contact",source="stream"} //p'
}
before=$(stream_count)
curl -sf -X POST "$URL/__sim/records/Contact" -d '[{"LastName":"Streamed 1"},{"LastName":"Streamed 2"}]' >/dev/null
grew() { local n; n=$(stream_count); [[ -n "$n" && $n -ge $(( before + 2 )) ]]; }
until_ok 60 grew && ok "/metrics counts streamed changes ($before -> $(stream_count))" \
    || bad "the stream counter did not grow: $(stream_count)"
curl -sf "${AUTH[@]}" "$H/metrics" >"$TMP/metrics"
# A write from the app, answered by Salesforce, shows in the write-back's latency.
psql -X -q "$SFBRIDGE_TEST_PG_DSN" -c "INSERT INTO $SCHEMA.contact (lastname) VALUES ('From the app')"
written() { curl -sf "${AUTH[@]}" "$H/metrics" | grep -q '^sfbridge_writeback_latency_seconds_count{mapping="Contact"} 1$'; }
until_ok 60 written && ok "/metrics has the write-back's latency of the app's insert" \
    || bad "no write-back latency"
# The write-back's queue: app changes Salesforce cannot take yet wait, counted by state, and
# go once it answers again.
queued() {
    curl -sf "${AUTH[@]}" "$H/metrics" | awk '/^sfbridge_writeback_queue_rows\{mapping="Contact"/ { n += $2 } END { exit !(n + 0 >= 3) }'
}
emptied() {
    curl -sf "${AUTH[@]}" "$H/status" | python3 -c 'import json,sys; q=json.load(sys.stdin)["mappings"][0]["writeback_queue"]; sys.exit(not (q and q["new"] == 0 and q["pending"] == 0))'
}
curl -sf -X PUT "$URL/__sim/faults" -d '{"unavailable":true}' >/dev/null
psql -X -q "$SFBRIDGE_TEST_PG_DSN" -c "INSERT INTO $SCHEMA.contact (lastname) VALUES ('Queued 1'), ('Queued 2'), ('Queued 3')"
until_ok 60 queued && ok "/metrics counts the three writes waiting while Salesforce is unavailable" \
    || bad "the queue did not show: $(curl -sf "${AUTH[@]}" "$H/metrics" | grep writeback_queue)"
curl -sf -X PUT "$URL/__sim/faults" -d '{}' >/dev/null
until_ok 120 emptied && ok "/status shows the queue empty once they are written" \
    || bad "the queue did not empty: $(curl -sf "${AUTH[@]}" "$H/status" | head -c 600)"
curl -sf "${AUTH[@]}" "$H/metrics" >"$TMP/metrics"
for series in 'sfbridge_build_info{version=' 'sfbridge_inbound_latency_seconds_count{mapping="Contact"} ' 'sfbridge_stream_connected{mapping="Contact"} 1' \
    'process_resident_memory_bytes ' 'process_open_fds ' '# TYPE sfbridge_polls_total counter' \
    'sfbridge_stream_batch_rows_count{mapping="Contact"} ' 'sfbridge_salesforce_retries_total{cause="lock"} ' \
    'sfbridge_inbound_stage_seconds_count{mapping="Contact",stage="commit"} ' \
    'sfbridge_postgres_sessions_opened_total ' '# TYPE sfbridge_writeback_latency_seconds histogram'; do
    grep -qF "$series" "$TMP/metrics" && ok "metrics have $series" || bad "metrics lack $series"
done

# A real Prometheus scrapes it (with the token) and answers queries about it.
if [[ ! -x "$PROMETHEUS" ]]; then
    bad "prometheus is not installed (Debian's prometheus package; ./scripts/test installs it)"
else
    cat >"$TMP/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s  # a scrape that fails counts 0 in sum_over_time(up) below, and is retried
scrape_configs:
  - job_name: sfbridge
    authorization:
      credentials: $TOKEN
    static_configs:
      - targets: ['$ADDR']
YAML
    # A free port, and another if something took it before Prometheus bound it.
    for _ in 1 2 3; do
        PPORT=$(free_port)
        "$PROMETHEUS" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
            --web.listen-address="127.0.0.1:$PPORT" >"$TMP/prometheus.log" 2>&1 &
        PROM_PID=$!
        prom_up() { curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null || ! kill -0 "$PROM_PID" 2>/dev/null; }
        until_ok 60 prom_up
        kill -0 "$PROM_PID" 2>/dev/null && break
    done
    P="http://127.0.0.1:$PPORT"
    query() { curl -sf --data-urlencode "query=$1" "$P/api/v1/query"; }
    value() { query "$1" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'; }
    # Two successful scrapes: up is 1 for each.
    scraped_twice() { [[ "$(value 'sum_over_time(up{job="sfbridge"}[5m])' 2>/dev/null)" -ge 2 ]] 2>/dev/null; }
    if until_ok 120 scraped_twice; then ok "Prometheus scraped sfbridge twice"
    else bad "Prometheus did not scrape twice"; tail -5 "$TMP/prometheus.log"; fi
    up() { [[ "$(value 'up{job="sfbridge"}')" == 1 ]]; }
    until_ok 60 up && ok 'Prometheus: up{job="sfbridge"} == 1' || bad "up is not 1"
    q='sfbridge_changes_applied_total{job="sfbridge",mapping="Contact",source="stream"}'
    has_first() { first=$(value "$q"); [[ -n "$first" ]]; }
    until_ok 60 has_first || bad "Prometheus has no $q"
    curl -sf -X POST "$URL/__sim/records/Contact" -d '[{"LastName":"Scraped 1"},{"LastName":"Scraped 2"},{"LastName":"Scraped 3"}]' >/dev/null
    increased() { local v; v=$(value "$q"); [[ -n "$v" && -n "$first" && $v -ge $(( first + 3 )) ]]; }
    if until_ok 120 increased; then ok "Prometheus: $q went from $first to $(value "$q")"
    else bad "Prometheus: $q stayed at $(value "$q")"; fi
    for e in 'sfbridge_stream_connected{mapping="Contact"}' 'sfbridge_replay_id{mapping="Contact"}' \
        'histogram_quantile(0.5, sfbridge_inbound_latency_seconds_bucket{mapping="Contact"})' \
        'process_resident_memory_bytes{job="sfbridge"}' 'sfbridge_polls_total{mapping="Contact"}' \
        'sfbridge_writeback_queue_rows{mapping="Contact",state="pending"}'; do
        v=$(value "$e")
        [[ -n "$v" ]] && ok "Prometheus: $e = $v" || bad "Prometheus has no $e"
    done
fi

if grep -q -- "$TOKEN\|sfsim-password\|sfsim-client-secret" "$TMP/run.log"; then
    bad "a secret reached sfbridge's log"
else ok "no secret in the log"; fi
kill -TERM $PID
gone() { ! kill -0 "$PID" 2>/dev/null; }
if until_ok 60 gone; then
    wait $PID; rc=$?
    [[ $rc -eq 0 ]] && ok "SIGTERM: exit 0 with the endpoint open" || bad "SIGTERM: exit $rc"
else bad "SIGTERM: still running after 60 s"; kill -KILL $PID; fi
PID=
exit $fail

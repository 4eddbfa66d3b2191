# Shared by http_test.sh and status_page_test.sh: sfsim and an sfbridge serving --http on a
# free loopback port, checks, and waits for conditions. Source it after setting TMP and SCHEMA.
# shellcheck shell=bash
cleanup() {
    kill "${PROM_PID:-}" "${PID:-}" "${SIM_PID:-}" 2>/dev/null
    wait 2>/dev/null
    psql -X -q "$SFBRIDGE_TEST_PG_DSN" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
# until SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds or the deadline passes.
until_ok() {
    local deadline=$(( $(date +%s) + $1 )); shift
    until "$@"; do
        (( $(date +%s) < deadline )) || return 1
        sleep 0.2
    done
}
# start_sfsim SFSIM: sets SIM_PID and URL, and the settings that log in to it.
start_sfsim() {
    "$1" --listen 127.0.0.1:0 >"$TMP/sfsim.log" 2>&1 &
    SIM_PID=$!
    until_ok 30 grep -q "^listening on " "$TMP/sfsim.log" || { bad "sfsim did not start"; exit 1; }
    URL=$(sed -n 's/^listening on //p' "$TMP/sfsim.log")
    export DATABASE_URL="$SFBRIDGE_TEST_PG_DSN" SALESFORCE_LOGIN_URL="$URL"
    export SALESFORCE_CLIENT_ID=sfsim-client-id SALESFORCE_CLIENT_SECRET=sfsim-client-secret
    export SALESFORCE_USERNAME=integration@sfsim.test SALESFORCE_PASSWORD=sfsim-password
}
# start_sfbridge SFBRIDGE MAPPINGS TOKEN: `run --http 127.0.0.1:0`; sets PID and ADDR.
start_sfbridge() {
    SFBRIDGE_HTTP_TOKEN=$3 "$1" run --mappings "$2" --schema "$SCHEMA" --http 127.0.0.1:0 \
        >"$TMP/run.log" 2>&1 &
    PID=$!
    until_ok 60 grep -q 'msg="serving /healthz' "$TMP/run.log" \
        || { bad "no endpoint"; cat "$TMP/run.log"; exit 1; }
    ADDR=$(sed -n 's/.*msg="serving \/healthz.* address=\([0-9.:]*\).*/\1/p' "$TMP/run.log" | head -1)
}

#!/usr/bin/env bash
# Heroku Connect's API on sfbridge's endpoint (issue 23), called as its client libraries call it
# (hc_client.py: django-heroku-connect, the `heroku connect:*` CLI, the herokux Terraform
# provider): the connection and its mappings, the write mode, the health check, a token refused,
# the export, a mapping's reload, and an import that adds a mapping and a field, applied by a
# restart in place that refuses no connection. Every wait is for a condition, with a deadline.
# Usage: hc_api_test.sh SFBRIDGE SFSIM  (SFBRIDGE_TEST_PG_DSN from ./scripts/test)
set -uo pipefail
SFBRIDGE=$1 SFSIM=$2
: "${SFBRIDGE_TEST_PG_DSN:?run through ./scripts/test}"
TMP=$(mktemp -d)
SCHEMA=hcapi_$$
TOKEN="hc-api-test-token-$$-secret"
source "$(dirname "$0")/endpoint_lib.sh"
CLIENT=(python3 "$(dirname "$0")/hc_client.py")
sql() { psql -X -q -At "$SFBRIDGE_TEST_PG_DSN" -c "$1"; }

start_sfsim "$SFSIM"
curl -sf -X POST "$URL/__sim/records/Contact" -d '[{"LastName":"Before the start"}]' >/dev/null
curl -sf -X POST "$URL/__sim/records/Account" -d '[{"Name":"Acme"}]' >/dev/null
printf '{"version":1,"mappings":[{"object_name":"Contact","config":{"access":"read_write","sf_notify_enabled":true,"sf_polling_seconds":600,"fields":{"Id":{},"LastName":{},"SystemModstamp":{}}}}]}' >"$TMP/m.json"
cp "$TMP/m.json" "$TMP/m.before.json"
start_sfbridge "$SFBRIDGE" "$TMP/m.json" "$TOKEN"
H="http://$ADDR"
API="$H/api/v3" # django-heroku-connect's HEROKU_CONNECT_API_ENDPOINT

healthy() { "${CLIENT[@]}" django-health "$API" "$TOKEN" my-app >"$TMP/health" 2>&1; }
if until_ok 120 healthy; then ok "django's health check passes once loaded: $(cat "$TMP/health")"
else bad "django's health check: $(cat "$TMP/health")"; fi

out=$("${CLIENT[@]}" django-health "$API" wrong-token my-app 2>&1)
[[ $out == "Unable to retrieve connection state" ]] && ok "a refused token: django's health check fails" \
    || bad "a refused token: $out"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "Authorization: Bearer wrong" "$API/connections?app=x")
[[ $code == 401 ]] && grep -q '"message"' "$TMP/body" && ok "a refused token: 401 with a message" \
    || bad "a refused token: $code $(cat "$TMP/body")"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$API/connections?app=x")
[[ $code == 401 ]] && ok "no token: 401" || bad "no token: $code"

mode=$("${CLIENT[@]}" django-write-mode "$API" "$TOKEN" my-app 2>&1)
[[ $mode == ORDERED_WRITES ]] && ok "django reads the write mode: $mode" || bad "write mode: $mode"

"${CLIENT[@]}" cli-info "$H" "$TOKEN" my-app >"$TMP/info" 2>&1
if grep -q '^Connection \[[0-9a-f-]\{36\}\] / sfbridge-'"$SCHEMA"' (IDLE)$' "$TMP/info" \
    && grep -q '^Contact DATA_SYNCED$' "$TMP/info"; then
    ok "connect:info through discovery: $(tr '\n' ' ' <"$TMP/info")"
else bad "connect:info: $(cat "$TMP/info")"; fi

if "${CLIENT[@]}" herokux-read "$H" "$TOKEN" my-app >"$TMP/x" 2>&1; then
    ok "herokux decodes the connection with Go's types"
else bad "herokux: $(cat "$TMP/x")"; fi

"${CLIENT[@]}" cli-export "$H" "$TOKEN" my-app >"$TMP/export.json" 2>&1
# The file as sfbridge reads it (defaults filled in, as Heroku Connect's exports have them).
"$SFBRIDGE" mappings export --mappings "$TMP/m.json" >"$TMP/canonical.json"
if python3 - "$TMP/export.json" "$TMP/canonical.json" <<'EOF'
import json, sys
exported = json.load(open(sys.argv[1]))
assert exported["connection"]["features"]["poll_db_no_merge"] is True, exported
del exported["connection"]  # what herokux does before comparing with its configuration
file = json.load(open(sys.argv[2]))
assert exported == file, (exported, file)
EOF
then ok "connect:export: the mapping file, with a connection block"
else bad "connect:export: $(cat "$TMP/export.json")"; fi

# connect:mapping:reload: 202 exactly; the mapping loads again.
out=$("${CLIENT[@]}" cli-reload "$H" "$TOKEN" my-app contact 2>&1)
[[ $out == 202 ]] && ok "connect:mapping:reload answers 202" || bad "reload: $out"
reloaded() { grep -q 'reload requested: loading again' "$TMP/run.log"; }
until_ok 60 reloaded && ok "the reload runs" || bad "no reload in the log"

# An import that is not a mapping file, and one naming an object the org does not have: 400
# with the reason, the file untouched, the process still serving.
printf '{"version":1,"mappings":[{"object_name":"NoSuchThing__c","config":{"access":"read_only","fields":{"Id":{}}}}]}' >"$TMP/bad.json"
out=$("${CLIENT[@]}" django-import "$API" "$TOKEN" my-app "$TMP/bad.json" 0.2 2>&1)
[[ $out == *"HTTP 400"*"NoSuchThing__c"* ]] && cmp -s "$TMP/m.json" "$TMP/m.before.json" \
    && ok "an import naming an unknown object: 400, the file unchanged" || bad "bad import: $out"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data 'not json' "$API/connections/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/x")/actions/import")
[[ $code == 400 ]] && grep -q '"message"' "$TMP/body" && ok "an import that is not JSON: 400 ($(cat "$TMP/body"))" \
    || bad "not JSON: $code $(cat "$TMP/body")"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$API/connections/x/actions/pause")
[[ $code == 404 ]] && grep -q "does not serve POST /api/v3/connections/x/actions/pause" "$TMP/body" \
    && ok "an action sfbridge does not offer: 404 saying so" || bad "pause: $code $(cat "$TMP/body")"

# An import the describes accept but the start cannot apply (here the app has a view where the
# new mapping's table would go): the previous file is put back and the process runs on it.
sql "CREATE VIEW $SCHEMA.account AS SELECT 1 AS x"
printf '{"version":1,"mappings":[{"object_name":"Account","config":{"access":"read_only","sf_notify_enabled":false,"sf_polling_seconds":600,"fields":{"Id":{},"Name":{},"SystemModstamp":{}}}}]}' >"$TMP/blocked.json"
"${CLIENT[@]}" django-import "$API" "$TOKEN" my-app "$TMP/blocked.json" 0.2 >"$TMP/blocked.out" 2>&1
rolled_back() { grep -q 'the imported mappings could not be applied' "$TMP/run.log" && healthy; }
if until_ok 120 rolled_back && cmp -s "$TMP/m.json" "$TMP/m.before.json" \
    && [[ ! -e "$TMP/m.json.sfbridge-previous" ]]; then
    ok "an import the start cannot apply: the previous file is back and syncing"
else bad "rollback: $(cat "$TMP/blocked.out") $(tail -5 "$TMP/run.log")"; fi
sql "DROP VIEW $SCHEMA.account"

# The import django's import_mappings --wait sends: Account added, Contact gains Email. Polled
# every 0.2 s through the restart, the connection must answer each time (no connection refused).
pid_before=$PID
printf '{"version":1,"connection":{"app_name":"my-app","organization_id":"00D000000000001","exported_at":"2026-11-30T00:00:00+00:00"},"mappings":[{"object_name":"Account","config":{"access":"read_only","sf_notify_enabled":false,"sf_polling_seconds":600,"sf_max_daily_api_calls":30000,"fields":{"Id":{},"Name":{},"SystemModstamp":{}},"indexes":{}}},{"object_name":"Contact","config":{"access":"read_write","sf_notify_enabled":true,"sf_polling_seconds":600,"fields":{"Id":{},"LastName":{},"Email":{},"SystemModstamp":{}}}}]}' >"$TMP/import.json"
if "${CLIENT[@]}" django-import "$API" "$TOKEN" my-app "$TMP/import.json" 0.2 >"$TMP/import.out" 2>&1 \
    && python3 - "$TMP/import.out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == 202 and r["body"] == "", r  # an empty answer: shane-sfdx-plugins needs one
assert r["states"][-1] != "IMPORT_CONFIGURATION", r  # waited until the import was applied
EOF
then ok "import_mappings --wait: 202, then applied: $(cat "$TMP/import.out")"
else bad "import_mappings --wait: $(cat "$TMP/import.out")"; tail -20 "$TMP/run.log"; fi
kill -0 "$pid_before" 2>/dev/null && grep -q 'serving on the listening socket handed over' "$TMP/run.log" \
    && ok "the process restarted in place (pid $pid_before), on the same listening socket" \
    || bad "no restart in place: $(grep -c 'handed over' "$TMP/run.log")"
grep -q '"object_name": "Account"' "$TMP/m.json" && grep -q '"Email"' "$TMP/m.json" \
    && ok "the mapping file holds the import" || bad "mapping file: $(cat "$TMP/m.json")"
account_loaded() { [[ $(sql "SELECT name FROM $SCHEMA.account" 2>/dev/null) == Acme ]]; }
until_ok 120 account_loaded && ok "the new mapping's table is made and loaded" \
    || bad "account: $(sql "SELECT count(*) FROM $SCHEMA.account" 2>&1)"
email_column() { [[ $(sql "SELECT count(*) FROM information_schema.columns WHERE table_schema = '$SCHEMA' AND table_name = 'contact' AND column_name = 'email'") == 1 ]]; }
until_ok 60 email_column && ok "the changed mapping's table has the new column" || bad "no email column"
healthy2() { healthy && "${CLIENT[@]}" cli-info "$H" "$TOKEN" my-app >"$TMP/info" 2>&1 \
    && grep -q '^Account DATA_SYNCED$' "$TMP/info" && grep -q '^Contact DATA_SYNCED$' "$TMP/info"; }
until_ok 120 healthy2 && ok "after the import: $(tr '\n' ' ' <"$TMP/info")" \
    || bad "after the import: $(cat "$TMP/info" "$TMP/health")"
# The same import again changes nothing: 202 at once, no restart.
restarts=$(grep -c 'restarting to apply the imported mappings' "$TMP/run.log")
"${CLIENT[@]}" django-import "$API" "$TOKEN" my-app "$TMP/import.json" 0.2 >"$TMP/import2.out" 2>&1
[[ $(grep -c 'restarting to apply the imported mappings' "$TMP/run.log") == "$restarts" ]] \
    && grep -q '"states": \["IDLE"\]\|"states": \["POLLING_DB_CHANGES"\]' "$TMP/import2.out" \
    && ok "the same import again: no restart" || bad "import again: $(cat "$TMP/import2.out")"

if grep -q "$TOKEN" "$TMP/run.log"; then bad "the token reached the log"; fi
kill -TERM "$PID"
wait "$PID"; rc=$?
[[ $rc == 0 ]] && ok "SIGTERM after the restart: exit 0" || bad "exit code $rc"
PID=

# A SIGTERM right after an import's 202 (during the drain, the exec or the new image's start)
# stops the process: exit 0, no image left running.
mv "$TMP/run.log" "$TMP/run.1.log"
start_sfbridge "$SFBRIDGE" "$TMP/m.json" "$TOKEN"
API="http://$ADDR/api/v3"
until_ok 120 healthy || bad "not healthy before the import: $(cat "$TMP/health")"
sed 's/"Email":{},/"Email":{},"Title":{},/' "$TMP/import.json" >"$TMP/import3.json"
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/x")
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    --data @"$TMP/import3.json" "$API/connections/$id/actions/import")
kill -TERM "$PID"
[[ $code == 202 ]] || bad "the import before the SIGTERM: $code $(cat "$TMP/body")"
gone() { ! kill -0 "$PID" 2>/dev/null; }
if until_ok 120 gone; then
    wait "$PID"; rc=$?
    [[ $rc == 0 ]] && ok "a SIGTERM during an import's restart stops the process (exit 0)" \
        || bad "SIGTERM during the restart: exit $rc"
else bad "SIGTERM during the restart: still running"; tail -30 "$TMP/run.log"; kill -KILL "$PID"; fi
PID=
mv "$TMP/run.log" "$TMP/run.2.log"

# The ids a Terraform configuration knows, given as settings (and refused when not UUIDs); and
# without a token set, the API reads but does not change anything.
SFBRIDGE_HEROKU_APP_ID=not-a-uuid "$SFBRIDGE" run --mappings "$TMP/m.json" --schema "$SCHEMA" \
    >"$TMP/bad-id.out" 2>&1
rc=$?
[[ $rc == 2 ]] && grep -q "SFBRIDGE_HEROKU_APP_ID must be a UUID" "$TMP/bad-id.out" \
    && ok "an app id that is not a UUID: exit 2, says why" || bad "bad app id: $rc $(cat "$TMP/bad-id.out")"
export SFBRIDGE_HEROKU_CONNECTION_ID=4f1c2b9e-8d3a-4e6f-9b70-1a2b3c4d5e6f
export SFBRIDGE_HEROKU_APP_ID=0d4b6d6a-1b1e-4c3e-9a57-2f3d9e1c0b11
start_sfbridge "$SFBRIDGE" "$TMP/m.json" ""
unset SFBRIDGE_HEROKU_CONNECTION_ID SFBRIDGE_HEROKU_APP_ID
H="http://$ADDR"
code=$(curl -s -o "$TMP/body" -w '%{http_code}' "$H/api/v3/connections?app=x")
[[ $code == 200 ]] && ok "no token set: the connection is readable" || bad "no token, read: $code"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["results"][0]; assert c["id"] == c["addon_id"] == "4f1c2b9e-8d3a-4e6f-9b70-1a2b3c4d5e6f" and c["app_id"] == "0d4b6d6a-1b1e-4c3e-9a57-2f3d9e1c0b11", c' "$TMP/body" \
    && ok "the configured connection and app ids are the answer's" || bad "ids: $(cat "$TMP/body")"
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["id"])' "$TMP/body")
code=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST --data @"$TMP/import.json" "$H/api/v3/connections/$id/actions/import")
[[ $code == 403 ]] && grep -q "set SFBRIDGE_HTTP_TOKEN" "$TMP/body"     && ok "no token set: an import is refused (403, saying why)" || bad "no token, import: $code $(cat "$TMP/body")"
exit $fail

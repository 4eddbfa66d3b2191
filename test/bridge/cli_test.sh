#!/usr/bin/env bash
# The sfbridge command as a container runs it: misconfiguration ends with one clear message and
# exit code 2; SIGTERM ends a running sync with exit code 0 within 5 seconds.
# Usage: cli_test.sh SFBRIDGE SFSIM MAPPINGS  (SFBRIDGE_TEST_PG_DSN from ./scripts/test)
set -uo pipefail
SFBRIDGE=$1 SFSIM=$2 MAPPINGS=$3
: "${SFBRIDGE_TEST_PG_DSN:?run through ./scripts/test}"
TMP=$(mktemp -d)
trap 'kill $SIM_PID 2>/dev/null; rm -rf "$TMP"' EXIT
"$SFSIM" --listen 127.0.0.1:0 --connect-timeout 2000 >"$TMP/sfsim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 1 100); do URL=$(sed -n 's/^listening on //p' "$TMP/sfsim.log"); [[ -n "$URL" ]] && break; sleep 0.1; done
fail=0
check() { # name, expected exit code, expected text in stderr, command...
    local name=$1 code=$2 text=$3; shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"; local got=$?
    if [[ $got -ne $code ]] || { [[ -n "$text" ]] && ! grep -q -- "$text" "$TMP/err"; }; then
        echo "FAIL: $name: exit $got (want $code), stderr:"; cat "$TMP/err"; fail=1
    else
        echo "ok: $name"
    fi
    if grep -q "sfsim-password\|sfsim-client-secret\|db-secret-pass\|refresh-token-secret" "$TMP/err" "$TMP/out"; then
        echo "FAIL: $name: a secret reached the output"; fail=1
    fi
}
export DATABASE_URL="$SFBRIDGE_TEST_PG_DSN" SALESFORCE_LOGIN_URL="$URL"
export SALESFORCE_CLIENT_ID=sfsim-client-id SALESFORCE_CLIENT_SECRET=sfsim-client-secret
export SALESFORCE_USERNAME=integration@sfsim.test SALESFORCE_PASSWORD=sfsim-password
SCHEMA=cli_$$

SALESFORCE_PASSWORD=wrong check "a wrong password" 2 "authentication failure" \
    "$SFBRIDGE" run --mappings "$MAPPINGS" --schema "$SCHEMA"
SALESFORCE_LOGIN_URL=not-a-url check "a bad login URL" 2 "login URL" \
    "$SFBRIDGE" run --mappings "$MAPPINGS" --schema "$SCHEMA"
SALESFORCE_LOGIN_URL="https://user:login-url-secret@127.0.0.1:1/?sid=login-url-token" \
    check "a login URL with credentials" 2 "login URL" \
    "$SFBRIDGE" run --mappings "$MAPPINGS" --schema "$SCHEMA"
if grep -q "login-url-secret\|login-url-token" "$TMP/err" "$TMP/out"; then
    echo "FAIL: the login URL's credentials reached the output"; fail=1
fi
DATABASE_URL="postgres://app:pa%zzword-secret@127.0.0.1:1/app" check "a DATABASE_URL libpq cannot parse" \
    2 "connection string" "$SFBRIDGE" run --mappings "$MAPPINGS" --schema "$SCHEMA"
if grep -q "zzword-secret" "$TMP/err" "$TMP/out"; then
    echo "FAIL: DATABASE_URL's password reached the output"; fail=1
fi
DATABASE_URL="host=127.0.0.1 port=1 user=x password=db-secret-pass dbname=x connect_timeout=2" \
    check "an unreachable database" 2 "database is unreachable" \
    "$SFBRIDGE" run --mappings "$MAPPINGS" --schema "$SCHEMA"
DATABASE_URL="postgresql://x:db-secret-pass@127.0.0.1:1/x?connect_timeout=2" \
    check "status with an unreachable database" 2 "database is unreachable" \
    "$SFBRIDGE" status --schema "$SCHEMA"
SALESFORCE_REFRESH_TOKEN=refresh-token-secret check "a refused refresh token" 2 "" \
    env -u SALESFORCE_PASSWORD "$SFBRIDGE" run --mappings "$MAPPINGS" --schema "$SCHEMA"
printf '{"version":1,"mappings":[{"object_name":"NoSuchObject__c","config":{"access":"read_only","fields":{"Id":{}}}}]}' >"$TMP/bad.json"
check "an unknown object" 2 "mapping NoSuchObject__c: Salesforce has no object" \
    "$SFBRIDGE" run --mappings "$TMP/bad.json" --schema "$SCHEMA"
check "a missing setting" 2 "SALESFORCE_CLIENT_ID is not set" env -u SALESFORCE_CLIENT_ID \
    "$SFBRIDGE" run --mappings "$MAPPINGS" --schema "$SCHEMA"
check "mappings validate" 0 "" "$SFBRIDGE" mappings validate --mappings "$MAPPINGS"
check "mappings export" 0 "" "$SFBRIDGE" mappings export --mappings "$MAPPINGS"
"$SFBRIDGE" mappings export --mappings "$MAPPINGS" >"$TMP/a.json"
"$SFBRIDGE" mappings export --mappings "$TMP/a.json" >"$TMP/b.json"
cmp -s "$TMP/a.json" "$TMP/b.json" && echo "ok: export is canonical" || { echo "FAIL: export differs"; fail=1; }

# SIGTERM during a sync: exit 0 within 5 s.
"$SFBRIDGE" run --mappings "$MAPPINGS" --schema "$SCHEMA" >"$TMP/run.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do grep -q "initial load done.*Contact" "$TMP/run.log" && break; sleep 0.1; done
curl -sf -X POST "$URL/__sim/generate" -d '{"object":"Contact","kind":"mixed","count":100000,"rate":2000}' >/dev/null
sleep 1
start=$(date +%s%N)
kill -TERM $PID
wait $PID; code=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [[ $code -eq 0 && $ms -lt 5000 ]]; then echo "ok: SIGTERM: exit 0 after $ms ms"; else echo "FAIL: SIGTERM: exit $code after $ms ms"; cat "$TMP/run.log"; fail=1; fi
"$SFBRIDGE" status --schema "$SCHEMA" >"$TMP/status" 2>&1 && grep -q "^Contact *loaded" "$TMP/status" \
    && echo "ok: status" || { echo "FAIL: status"; cat "$TMP/status"; fail=1; }
"$SFBRIDGE" reload Contact --schema "$SCHEMA" >"$TMP/reload" 2>&1 && grep -q "Contact will be loaded again" "$TMP/reload" \
    && [[ $(psql -X -At "$SFBRIDGE_TEST_PG_DSN" -c "SELECT load_state FROM $SCHEMA._sfbridge_state WHERE object_name = 'Contact'") == reload ]] \
    && echo "ok: reload" || { echo "FAIL: reload"; cat "$TMP/reload"; fail=1; }
"$SFBRIDGE" reload --schema-only --schema "$SCHEMA" >"$TMP/reload" 2>&1 && grep -q "starts again" "$TMP/reload" \
    && [[ $(psql -X -At "$SFBRIDGE_TEST_PG_DSN" -c "SELECT count(*) FROM $SCHEMA._sfbridge_commands WHERE command = 'reload-schema'") == 1 ]] \
    && echo "ok: reload --schema-only" || { echo "FAIL: reload --schema-only"; cat "$TMP/reload"; fail=1; }
check "reload of an unknown mapping" 2 "no mapping named Nothing" "$SFBRIDGE" reload Nothing --schema "$SCHEMA"
psql -X -q "$SFBRIDGE_TEST_PG_DSN" -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 || true

# `sfbridge errors` lists a write Salesforce refused; `sfbridge retry` sends it again.
WSCHEMA=cli_w_$$
printf '{"version":1,"mappings":[{"object_name":"Contact","config":{"access":"read_write","sf_notify_enabled":true,"sf_polling_seconds":600,"fields":{"Id":{},"LastName":{}}}}]}' >"$TMP/rw.json"
curl -sf -X PUT "$URL/__sim/validation-rules" \
    -d '[{"object":"Contact","field":"LastName","equals":"Refused by a rule","message":"Not this one."}]' >/dev/null
"$SFBRIDGE" run --mappings "$TMP/rw.json" --schema "$WSCHEMA" >"$TMP/rw.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do grep -q "initial load done" "$TMP/rw.log" && break; sleep 0.1; done
psql -X -q "$SFBRIDGE_TEST_PG_DSN" -c "INSERT INTO $WSCHEMA.contact (lastname) VALUES ('Refused by a rule'), ('Accepted')"
for _ in $(seq 1 100); do
    "$SFBRIDGE" errors --schema "$WSCHEMA" >"$TMP/errors" 2>&1
    grep -q "Not this one." "$TMP/errors" && break; sleep 0.1
done
if [[ $(grep -c "INSERT" "$TMP/errors") -eq 1 ]] && grep -q "contact .* INSERT .*Not this one." "$TMP/errors"; then
    echo "ok: errors lists the refused write"
else echo "FAIL: errors"; cat "$TMP/errors"; fail=1; fi
"$SFBRIDGE" errors --schema "$WSCHEMA" --mapping Account >"$TMP/errors" 2>&1
[[ $(grep -c "INSERT" "$TMP/errors") -eq 0 ]] && echo "ok: errors --mapping filters" \
    || { echo "FAIL: errors --mapping"; cat "$TMP/errors"; fail=1; }
# Moved to the archive (as sfbridge does once processed entries are old enough): still listed,
# and retried by id as Heroku Connect's tools requeue (a copy back as NEW, the original
# REQUEUED); a retry in bulk leaves the archive alone.
psql -X -q "$SFBRIDGE_TEST_PG_DSN" -c "WITH moved AS (DELETE FROM $WSCHEMA._trigger_log WHERE state = 'FAILED' RETURNING *) INSERT INTO $WSCHEMA._trigger_log_archive SELECT * FROM moved"
"$SFBRIDGE" errors --schema "$WSCHEMA" >"$TMP/errors" 2>&1
grep -q "contact .* INSERT .*(archived) Not this one." "$TMP/errors" && echo "ok: errors lists the archive's" \
    || { echo "FAIL: errors of the archive"; cat "$TMP/errors"; fail=1; }
curl -sf -X PUT "$URL/__sim/validation-rules" -d '[]' >/dev/null
"$SFBRIDGE" retry --schema "$WSCHEMA" --mapping Contact >"$TMP/retry" 2>&1
grep -q "^0 failed writes set back to NEW" "$TMP/retry" && echo "ok: a retry in bulk leaves the archive" \
    || { echo "FAIL: retry in bulk"; cat "$TMP/retry"; fail=1; }
ARCHIVED=$(psql -X -At "$SFBRIDGE_TEST_PG_DSN" -c "SELECT id FROM $WSCHEMA._trigger_log_archive WHERE state = 'FAILED'")
"$SFBRIDGE" retry --schema "$WSCHEMA" --id "$ARCHIVED" >"$TMP/retry" 2>&1
grep -q "^1 failed writes set back to NEW" "$TMP/retry" && echo "ok: retry" || { echo "FAIL: retry"; cat "$TMP/retry"; fail=1; }
for _ in $(seq 1 100); do
    n=$(psql -X -At "$SFBRIDGE_TEST_PG_DSN" -c "SELECT count(*) FROM $WSCHEMA.contact WHERE lastname IN ('Refused by a rule', 'Accepted') AND sfid IS NOT NULL")
    [[ "$n" == 2 ]] && break; sleep 0.1
done
"$SFBRIDGE" errors --schema "$WSCHEMA" >"$TMP/errors" 2>&1
if [[ "$n" == 2 && $(grep -c "INSERT" "$TMP/errors") -eq 0 ]]; then echo "ok: the retried write went through"
else echo "FAIL: after retry: $n rows synced"; cat "$TMP/errors"; fail=1; fi
[[ $(psql -X -At "$SFBRIDGE_TEST_PG_DSN" -c "SELECT string_agg(state, ',') FROM $WSCHEMA._trigger_log_archive WHERE state <> 'SUCCESS'") == REQUEUED ]] \
    && echo "ok: the archived original is REQUEUED" || { echo "FAIL: archive states"; fail=1; }
kill -TERM $PID; wait $PID
psql -X -q "$SFBRIDGE_TEST_PG_DSN" -c "DROP SCHEMA $WSCHEMA CASCADE" >/dev/null 2>&1 || true
exit $fail

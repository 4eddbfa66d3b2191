#!/usr/bin/env bash
# `sfbridge doctor` against sfsim and a real PostgreSQL (issue 17): every FAIL and WARN path
# it has, each set up for real (a role without rights, a fresh database without hstore, a
# Heroku Connect schema, sfsim's limits, clock, CDC selection and PushTopic permission), and the
# exit code (0 unless something FAILs).
# Usage: doctor_test.sh SFBRIDGE SFSIM SOURCE_DIR  (SFBRIDGE_TEST_PG_DSN from ./scripts/test)
set -uo pipefail
SFBRIDGE=$1 SFSIM=$2 SRC=$3
: "${SFBRIDGE_TEST_PG_DSN:?run through ./scripts/test}"
TMP=$(mktemp -d)
SCHEMA=doctor_$$
ROLE=doctor_weak_$$ DB=doctor_db_$$ PASSWORD="weak-$$-pw"
source "$(dirname "$0")/endpoint_lib.sh"
su_sql() { psql -X -q -v ON_ERROR_STOP=1 "$SFBRIDGE_TEST_PG_DSN" -c "$1" >/dev/null; }
drop_all() {
    psql -X -q "$SFBRIDGE_TEST_PG_DSN" -c "DROP DATABASE IF EXISTS $DB" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" \
        -c "DROP SCHEMA IF EXISTS ${SCHEMA}_plain CASCADE" -c "DROP OWNED BY $ROLE" -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
}
trap 'drop_all; cleanup' EXIT
with() { local k=$1 v=$2; sed "s/$k=[^ ]*/$k=$v/" <<<"$3"; }
WEAK_DSN=$(with dbname "$DB" "$(with password "$PASSWORD" "$(with user "$ROLE" "$SFBRIDGE_TEST_PG_DSN")")")

start_sfsim "$SFSIM"
cat >"$TMP/m.json" <<'JSON'
{"version":1,"mappings":[
 {"object_name":"Contact","config":{"access":"read_write","sf_notify_enabled":true,"sf_polling_seconds":600,"fields":{"Id":{},"LastName":{},"Email":{}}}},
 {"object_name":"Account","config":{"access":"read_only","sf_notify_enabled":true,"sfbridge_stream":"cdc","sf_polling_seconds":600,"fields":{"Id":{},"Name":{}}}}]}
JSON
# doctor OUT [ARGS...]: runs it, output to $TMP/OUT, exit code in $rc.
doctor() {
    local out=$1; shift
    "$SFBRIDGE" doctor --mappings "$TMP/m.json" --schema "$SCHEMA" "$@" >"$TMP/$out" 2>"$TMP/$out.err"
    rc=$?
}
# has OUT LEVEL CHECK TEXT: a line "LEVEL  CHECK: ..." holding TEXT.
has() {
    grep -E "^$2 +$3: " "$TMP/$1" | grep -qF -- "$4" && ok "$2 $3: $4" \
        || { bad "no '$2 $3' line with '$4' in $1:"; cat "$TMP/$1"; }
}
exits() { [[ $rc -eq $2 ]] && ok "$1: exit $2" || bad "$1: exit $rc, expected $2"; }

# Everything in order: every line OK, exit 0.
doctor all_ok
exits "a sound set-up" 0
[[ $(grep -c '^OK  ' "$TMP/all_ok") -ge 12 ]] && ! grep -qE '^(WARN|FAIL)' "$TMP/all_ok" \
    && ok "every check OK ($(grep -c '^OK  ' "$TMP/all_ok") lines)" || { bad "not all OK:"; cat "$TMP/all_ok"; }
has all_ok OK "existing schema" "does not exist yet"
has all_ok OK "CDC" "Account is selected"

# The database unreachable: FAIL, and the Salesforce checks still run.
DATABASE_URL=$(with port 1 "$SFBRIDGE_TEST_PG_DSN") doctor no_db
exits "no database" 1
has no_db FAIL database "unreachable"
has no_db OK "Salesforce login" "logged in"
grep -q "password=" "$TMP/no_db" && bad "the DSN's password was printed" || ok "no password in the output"

# A role with no rights, in a fresh database without hstore.
su_sql "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'"
su_sql "CREATE DATABASE $DB"
DATABASE_URL=$WEAK_DSN doctor weak
exits "a role without rights" 1
has weak FAIL "schema privileges" "may not create schema \"$SCHEMA\": GRANT CREATE ON DATABASE"
has weak FAIL hstore "may not create it"
has weak WARN "fast loads" "GRANT SET ON PARAMETER session_replication_role"
# Given the database, it may create hstore (a trusted extension) only with CREATE on public.
su_sql "GRANT CREATE ON DATABASE $DB TO $ROLE"
psql -X -q "$(with dbname "$DB" "$SFBRIDGE_TEST_PG_DSN")" -c "GRANT CREATE ON SCHEMA public TO $ROLE" >/dev/null
DATABASE_URL=$WEAK_DSN doctor granted
has granted OK "schema privileges" "may create schema"
has granted OK hstore "sfbridge creates it"
has granted WARN "fast loads" "session_replication_role"
exits "warnings only" 0

# A Heroku Connect schema whose tables the role does not own.
su_sql "CREATE SCHEMA $SCHEMA; CREATE TABLE $SCHEMA._trigger_log (id serial); CREATE TABLE $SCHEMA.contact (id serial); CREATE TABLE $SCHEMA.account (id serial)"
doctor adopt
has adopt OK "existing schema" "Heroku Connect schema (_trigger_log) with 2 mapped table(s) (account, contact)"
su_sql "GRANT USAGE, CREATE ON SCHEMA $SCHEMA TO $ROLE"
TEST_DB=$(sed -n 's/.*dbname=\([^ ]*\).*/\1/p' <<<"$SFBRIDGE_TEST_PG_DSN")
DATABASE_URL=$(with dbname "$TEST_DB" "$WEAK_DSN") doctor not_owner
has not_owner FAIL "schema privileges" "3 table(s) in \"$SCHEMA\" belong to another role"
su_sql "CREATE SCHEMA ${SCHEMA}_plain; CREATE TABLE ${SCHEMA}_plain.orders (id serial)"
"$SFBRIDGE" doctor --mappings "$TMP/m.json" --schema "${SCHEMA}_plain" >"$TMP/plain" 2>&1
has plain WARN "existing schema" "has tables but no _trigger_log (orders)"

# No DATABASE_URL at all: a FAIL line, and the Salesforce checks still run.
env -u DATABASE_URL "$SFBRIDGE" doctor --mappings "$TMP/m.json" --schema "$SCHEMA" >"$TMP/no_url" 2>&1; rc=$?
exits "no DATABASE_URL" 1
has no_url FAIL database "DATABASE_URL"
has no_url OK "Salesforce login" "logged in"

# Salesforce: wrong credentials.
SALESFORCE_PASSWORD=wrong doctor bad_login
exits "a refused login" 1
has bad_login FAIL "Salesforce login" "check SALESFORCE_LOGIN_URL and the credentials"
grep -q "wrong" "$TMP/bad_login" && bad "the password was printed" || ok "no password in the output"

# An API version the org does not offer.
SALESFORCE_API_VERSION=99.0 doctor version
has version FAIL "API version" "does not offer API 99.0 (newest: 62.0)"

# A mapped field and an object the integration user cannot see.
sed 's/"Email":{}/"Email":{},"Secret_Field__c":{}/' "$TMP/m.json" >"$TMP/m2.json"
"$SFBRIDGE" doctor --mappings "$TMP/m2.json" --schema "$SCHEMA" >"$TMP/fields" 2>&1; rc=$?
exits "an unseen field" 1
has fields FAIL mappings "Secret_Field__c"

# Salesforce's clock a minute ahead.
curl -sf -X PUT "$URL/__sim/clock" -d '{"offsetMs":60000}' >/dev/null
doctor clock
has clock WARN clock "Salesforce's clock is +"
curl -sf -X PUT "$URL/__sim/clock" -d '{"offsetMs":0}' >/dev/null

# CDC not selected for the mapping that streams it.
curl -sf -X PUT "$URL/__sim/cdc" -d '{"selected":["Contact"]}' >/dev/null
doctor cdc
exits "CDC not selected" 1
has cdc FAIL CDC "Account streams by CDC but is not selected"
curl -sf -X PUT "$URL/__sim/cdc" -d '{"selected":null}' >/dev/null

# PushTopics: near and over the limit, then not createable (a describe that says so).
curl -sf -X POST "$URL/__sim/records/PushTopic" \
    -d '[{"Name":"someone_else","Query":"SELECT Id, Name FROM Lead","ApiVersion":60.0}]' | grep -q '"success":true' \
    || bad "could not make a PushTopic in sfsim"
doctor near --push-topic-limit 2
has near WARN PushTopics "1 PushTopic(s) in the org, 1 more needed, limit 2: close to the limit"
doctor over --push-topic-limit 1
has over FAIL PushTopics "limit 1: delete unused PushTopics"
mkdir -p "$TMP/schema"
cp "$SRC"/sim/schema/*.json "$TMP/schema/"
python3 - "$TMP/schema/PushTopic.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["createable"] = False; json.dump(d, open(sys.argv[1], "w"))
PY
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null
"$SFSIM" --listen 127.0.0.1:0 --schema-dir "$TMP/schema" >"$TMP/sfsim.log" 2>&1 &
SIM_PID=$!
until_ok 30 grep -q "^listening on " "$TMP/sfsim.log" || { bad "sfsim did not start"; exit 1; }
URL=$(sed -n 's/^listening on //p' "$TMP/sfsim.log"); export SALESFORCE_LOGIN_URL="$URL"
doctor no_topics
has no_topics FAIL PushTopics "may not create PushTopics"

# The daily API requests nearly spent, then spent; the streaming allocation spent.
curl -sf -X PUT "$URL/__sim/limits" -d '{"DailyApiRequests":{"Max":1000,"Remaining":60},"DailyDurableStreamingApiEvents":{"Max":10000,"Remaining":0},"DailyDeliveredPlatformEvents":{"Max":50000,"Remaining":1000}}' >/dev/null
doctor limits
has limits WARN "API limit" "of 1000 left today (DailyApiRequests): under 10% left"
has limits WARN "streaming events" "0 of 10000 left today (DailyDurableStreamingApiEvents)"
has limits WARN "CDC events" "1000 of 50000 left today (DailyDeliveredPlatformEvents): under 10% left"
curl -sf -X PUT "$URL/__sim/limits" -d '{"DailyApiRequests":{"Max":1000,"Remaining":0}}' >/dev/null
doctor spent
exits "the API limit spent" 1
grep -q "^FAIL .*REQUEST_LIMIT_EXCEEDED" "$TMP/spent" && ok "FAIL with REQUEST_LIMIT_EXCEEDED when no call is left" \
    || { bad "no REQUEST_LIMIT_EXCEEDED FAIL:"; cat "$TMP/spent"; }
exit $fail

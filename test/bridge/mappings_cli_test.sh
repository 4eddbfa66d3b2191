#!/usr/bin/env bash
# `sfbridge mappings add` and `sfbridge mappings plan` (issue 20) against sfsim and a real
# PostgreSQL: a mapping written from a describe, the errors a user meets, and a plan that
# reads the database and the org, changes nothing, and follows what a run (here `mappings
# import`) did. Usage: mappings_cli_test.sh SFBRIDGE SFSIM  (SFBRIDGE_TEST_PG_DSN from ./scripts/test)
set -uo pipefail
SFBRIDGE=$1 SFSIM=$2
: "${SFBRIDGE_TEST_PG_DSN:?run through ./scripts/test}"
TMP=$(mktemp -d)
SCHEMA=mappings_cli_$$
source "$(dirname "$0")/endpoint_lib.sh"
start_sfsim "$SFSIM"
M="$TMP/m.json"
curl -sf -X POST "$URL/__sim/records/Contact" -H 'Content-Type: application/json' \
    -d '[{"LastName":"A"},{"LastName":"B"},{"LastName":"C"}]' >/dev/null || bad "records not made"

# run NAME ARGS...: the command's output in $TMP/NAME (stdout and stderr), its exit code in $rc.
run() { local out=$1; shift; "$SFBRIDGE" "$@" >"$TMP/$out" 2>&1; rc=$?; }
says() { grep -qF -- "$2" "$TMP/$1" && ok "$1: $2" || { bad "$1 lacks '$2':"; cat "$TMP/$1"; }; }
exits() { [[ $rc -eq $2 ]] && ok "$1: exit $2" || { bad "$1: exit $rc, expected $2"; cat "$TMP/$1"; }; }

# A new file, a mapping from the describe: system fields, the address flattened.
run add mappings add Contact --fields LastName,Email,MailingAddress --access read_write --mappings "$M"
exits add 0
says add "added Contact (read_write, 13 fields, streamed, polled every 600 s) to $M"
says add "note: MailingAddress: mapped as its parts"
for f in '"Id"' '"IsDeleted"' '"SystemModstamp"' '"LastName"' '"MailingCity"'; do
    grep -qF "$f" "$M" && ok "the file maps $f" || bad "the file lacks $f"
done
grep -qF '"MailingAddress"' "$M" && bad "the compound field itself was mapped" || ok "no compound field"
run again mappings add contact --fields LastName --mappings "$M"
exits again 2
says again "maps Contact already"
run unknown mappings add Account --fields Name,Secret__c --mappings "$M"
exits unknown 2
says unknown "Account has no field Secret__c that the integration user can read"
run neither mappings add Account --mappings "$M"
exits neither 2
says neither "give --fields A,B,C or --all"
run all mappings add Sim_Everything__c --all --mappings "$M"
exits all 0
says all "note: Base64__c: left out, a base64 field"
run valid mappings validate --mappings "$M"
exits valid 0
says valid "ok: 2 mappings fit the org"

# The plan before anything exists: everything to create, three records to load; and nothing
# was created by it.
run plan1 mappings plan --mappings "$M" --schema "$SCHEMA"
exits plan1 0
says plan1 "table $SCHEMA.contact: create, 13 mapped columns"
says plan1 "PushTopic hc_Contact: create"
says plan1 "initial load: 3 records by REST, about 2 API calls"
says plan1 "polling: every 600 s, 288 API calls a day"
says plan1 "API calls: 576 a day for polling"
says plan1 "the org allows"
says plan1 "Nothing was changed."
[[ $(psql -X -At "$SFBRIDGE_TEST_PG_DSN" -c "SELECT count(*) FROM pg_namespace WHERE nspname = '$SCHEMA'") == 0 ]] \
    && ok "the plan created no schema" || bad "the plan created the schema"

# After a run made the tables and topics (import: no load), the plan follows.
run import mappings import --mappings "$M" --schema "$SCHEMA"
exits import 0
run plan2 mappings plan --mappings "$M" --schema "$SCHEMA"
exits plan2 0
says plan2 "table $SCHEMA.contact: up to date"
says plan2 "PushTopic hc_Contact: up to date"
# A field added to the file: its column is to be added, and the table loads again.
sed -i -E 's/"LastName": *\{ *\}/"LastName": {}, "Title": {}/' "$M"
run plan3 mappings plan --mappings "$M" --schema "$SCHEMA"
exits plan3 0
says plan3 "table $SCHEMA.contact: add title varchar(128)"
says plan3 "PushTopic hc_Contact: update its query"
exit $fail

#!/usr/bin/env bash
# The status page (GET /) in a real browser, headless Chromium (issue 17): it renders every
# mapping, its numbers change after changes are made in sfsim, and a write Salesforce refused
# appears with its message. Waits are for conditions, with generous deadlines.
# Usage: status_page_test.sh SFBRIDGE SFSIM [SCREENSHOT.png]  (SFBRIDGE_TEST_PG_DSN from
# ./scripts/test; chromium from Debian's package, which ./scripts/test installs)
set -uo pipefail
SFBRIDGE=$1 SFSIM=$2 SHOT=${3:-}
: "${SFBRIDGE_TEST_PG_DSN:?run through ./scripts/test}"
CHROMIUM=$(command -v chromium || echo /usr/bin/chromium)
TMP=$(mktemp -d)
SCHEMA=page_$$
TOKEN="page-test-token-$$"
source "$(dirname "$0")/endpoint_lib.sh"
[[ -x "$CHROMIUM" ]] || { bad "chromium is not installed (Debian's chromium; ./scripts/test installs it)"; exit 1; }
# As root, on a machine with no network beyond loopback (see the machine notes).
browser() {
    timeout 60 "$CHROMIUM" --headless --disable-dev-shm-usage --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$TMP/profile" --hide-scrollbars --window-size=1280,1000 \
        --virtual-time-budget=5000 "$@" 2>>"$TMP/chromium.log"
}

start_sfsim "$SFSIM"
curl -sf -X POST "$URL/__sim/records/Contact" -d '[{"LastName":"One"},{"LastName":"Two"}]' >/dev/null
curl -sf -X PUT "$URL/__sim/validation-rules" \
    -d '[{"object":"Contact","field":"LastName","equals":"Refused by a rule","message":"Not this one."}]' >/dev/null
printf '{"version":1,"mappings":[{"object_name":"Contact","config":{"access":"read_write","sf_notify_enabled":true,"sf_polling_seconds":600,"fields":{"Id":{},"LastName":{}}}},{"object_name":"Account","config":{"access":"read_only","sf_notify_enabled":false,"sf_polling_seconds":600,"fields":{"Id":{},"Name":{}}}}]}' >"$TMP/m.json"
start_sfbridge "$SFBRIDGE" "$TMP/m.json" "$TOKEN"
ready() { curl -sf "http://$ADDR/readyz" >/dev/null; }
until_ok 120 ready || bad "not ready"
psql -X -q "$SFBRIDGE_TEST_PG_DSN" -c "INSERT INTO $SCHEMA.contact (lastname) VALUES ('Refused by a rule'), ('Accepted')"
# A value Postgres cannot hold (a NUL): applied without it, and recorded as an error.
curl -sf -X POST "$URL/__sim/records/Contact" -d '[{"LastName":"Nul\u0000inside"}]' >/dev/null
refused() { curl -sf -H "Authorization: Bearer $TOKEN" "http://$ADDR/status" | grep -q "Not this one."; }
until_ok 60 refused || bad "the refusal did not reach /status"

PAGE="http://$ADDR/#token=$TOKEN"
# The Contact card's "changes streamed" figure.
events() { python3 -c 'import re,sys; m=re.search(r"data-mapping=\"Contact\"><h2>.*?data-field=\"events\">([0-9,]+)<", open(sys.argv[1]).read(), re.S); print(m.group(1).replace(",", "") if m else "")' "$1"; }
rendered() { browser --dump-dom "$PAGE" >"$TMP/dom1.html" && [[ -n "$(events "$TMP/dom1.html")" ]]; }
if until_ok 120 rendered; then ok "the page renders (Contact streamed $(events "$TMP/dom1.html") changes)"
else bad "the page did not render: $(head -c 600 "$TMP/dom1.html")"; tail -5 "$TMP/chromium.log"; fi
for m in Contact Account write-back; do
    grep -q "data-mapping=\"$m\"><h2>" "$TMP/dom1.html" && ok "a card for $m" || bad "no card for $m"
done
errors_shown() { browser --dump-dom "$PAGE" >"$TMP/dom1.html" && grep -q 'data-field="error">NUL characters removed from field LastName' "$TMP/dom1.html"; }
until_ok 120 errors_shown && ok "the Contact card shows the error recorded, with its message" \
    || bad "no error message on the Contact card"
grep -q 'FIELD_CUSTOM_VALIDATION_EXCEPTION: Not this one.' "$TMP/dom1.html" \
    && ok "the refused write appears with its message" || bad "no refused write on the page"
grep -q 'class="badge streaming"' "$TMP/dom1.html" && ok "Contact shows streaming" || bad "no streaming badge"
grep -qE 'waiting to be written</dt><dd data-field="queue"[^>]*>[0-9]+ new · [0-9]+ pending<' "$TMP/dom1.html" \
    && ok "the read-write mapping shows its write-back queue" || bad "no write-back queue on the Contact card"
grep -q '<div id="conflicts"><div class="empty">none since start</div>' "$TMP/dom1.html" \
    && ok "the conflicts list is there (none yet)" || bad "no conflicts list"

before=$(events "$TMP/dom1.html")
curl -sf -X POST "$URL/__sim/records/Contact" -d '[{"LastName":"Three"},{"LastName":"Four"},{"LastName":"Five"}]' >/dev/null
grew() { browser --dump-dom "$PAGE" >"$TMP/dom2.html"; local n; n=$(events "$TMP/dom2.html"); [[ -n "$n" && $n -ge $(( before + 3 )) ]]; }
until_ok 120 grew && ok "the numbers change: Contact streamed $before, then $(events "$TMP/dom2.html")" \
    || bad "the page's numbers did not change ($before, then $(events "$TMP/dom2.html"))"

# Without the token in the fragment, the page says what is missing and shows no data.
browser --dump-dom "http://$ADDR/" >"$TMP/dom3.html"
grep -q "a token is needed" "$TMP/dom3.html" && ! grep -q 'data-mapping="Contact"><h2>' "$TMP/dom3.html" \
    && ok "without the token the page shows no data" || bad "the page without the token"

browser --screenshot="$TMP/shot.png" "$PAGE" >/dev/null
# Cosmetic: a screenshot that failed is reported, not a failure.
[[ -s "$TMP/shot.png" ]] && ok "screenshot taken ($(stat -c %s "$TMP/shot.png") bytes)" \
    || echo "warning: no screenshot"
[[ -n "$SHOT" && -s "$TMP/shot.png" ]] && cp "$TMP/shot.png" "$SHOT"
kill -TERM $PID
exit $fail

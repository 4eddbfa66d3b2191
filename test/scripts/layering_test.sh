#!/usr/bin/env bash
# The include-rule check passes on this tree and fails, naming each arrow, on a tree that breaks
# the rules README.md states.
set -euo pipefail
check="$(dirname "${BASH_SOURCE[0]}")/../../scripts/check-layering"

"$check" # this tree

bad="$(mktemp -d)"
trap 'rm -rf "$bad"' EXIT
mkdir -p "$bad"/{pg,cometd,mappings,sim,core,salesforce}
echo '#include "cometd/client.hpp"' >"$bad/pg/a.cpp"
echo '#include "pg/connection.hpp"' >"$bad/cometd/b.hpp"
printf '#include <vector>\n#include "net/http_client.hpp"\n' >"$bad/mappings/c.cpp"
echo '#include "salesforce/rest_client.hpp"' >"$bad/sim/d.cpp"
echo '  #  include "bridge/engine.hpp"' >"$bad/core/e.hpp"
echo '#include "mappings/values.hpp"' >"$bad/salesforce/f.cpp"
echo '#include "core/log.hpp"' >"$bad/pg/fine.cpp"
if out="$("$check" "$bad" 2>&1)"; then
  echo "FAIL: the check passed a tree that breaks the layering" >&2
  exit 1
fi
for arrow in "pg may not include cometd/" "cometd may not include pg/" \
             "mappings may not include net/" "sim may not include salesforce/" \
             "core may not include bridge/" "salesforce may not include mappings/" \
             "6 include(s)"; do
  if [[ "$out" != *"$arrow"* ]]; then
    echo "FAIL: the check did not report: $arrow" >&2
    echo "$out" >&2
    exit 1
  fi
done
echo "layering check: 1 passed, 0 failed"

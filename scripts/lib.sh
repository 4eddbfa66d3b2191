# Shared by scripts/test, scripts/bench and (later) scripts/demo. Source it; do not run it.
# shellcheck shell=bash

SFBRIDGE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_BIN=/usr/lib/postgresql/15/bin

# Debian 12 packages the build, the tests and the benchmarks need.
SFBRIDGE_PACKAGES=(
    g++ cmake ninja-build pkg-config git ca-certificates
    libboost1.81-dev libssl-dev libpq-dev libsimdjson-dev catch2
    postgresql-15 postgresql-client-15 util-linux curl clang libclang-rt-14-dev
    prometheus python3 chromium
)

log_step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the packages that are missing, and only those, so a second run starts at once.
ensure_packages() {
    local missing=()
    local p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    ((${#missing[@]} == 0)) && return 0
    if [[ $EUID -ne 0 ]]; then
        echo "missing Debian packages: ${missing[*]}" >&2
        echo "install them with: sudo apt-get install ${missing[*]}" >&2
        return 1
    fi
    log_step "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Node.js and npm, for the conformance test with the official CometD client. Any installation
# will do; Debian's packages are the fallback.
ensure_node() {
    if command -v node >/dev/null && command -v npm >/dev/null; then
        return 0
    fi
    ensure_packages nodejs npm
}

# Installs the pinned npm packages of a folder (npm ci), unless they are already current.
ensure_npm_packages() {
    local dir=$1
    if [[ -d "$dir/node_modules" && "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]]; then
        return 0
    fi
    log_step "installing the pinned npm packages of ${dir#"$SFBRIDGE_ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

# Configures and builds one CMake preset.
build_preset() {
    local preset=$1
    log_step "building ($preset)"
    cmake --preset "$preset" -S "$SFBRIDGE_ROOT" >/dev/null
    cmake --build --preset "$preset" -j "$(nproc)"
}

# Builds the libFuzzer targets with clang in their own tree and runs each for `seconds`.
# Returns non-zero on a finding (the crashing input is left in build/fuzz/findings).
run_fuzzers() {
    local seconds=$1
    local targets=(cometd_message hstore push_event query_page mapping_file answers describe csv
                   gzip http_headers values config_file filter)
    local each=$(( seconds / ${#targets[@]} ))
    (( each >= 2 )) || each=2
    log_step "fuzzing ${#targets[@]} parsers for ${each}s each (clang, libFuzzer, ASan, UBSan)"
    cmake -S "$SFBRIDGE_ROOT" -B "$SFBRIDGE_ROOT/build/fuzz" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_CXX_COMPILER=clang++ -DSFBRIDGE_FUZZ=ON -DSFBRIDGE_TESTS=OFF -DSFBRIDGE_BENCH=OFF \
        >/dev/null
    cmake --build "$SFBRIDGE_ROOT/build/fuzz" -j "$(nproc)" \
        --target "${targets[@]/%/_fuzz}" >/dev/null
    local findings="$SFBRIDGE_ROOT/build/fuzz/findings" t
    mkdir -p "$findings"
    for t in "${targets[@]}"; do
        # Each target grows its own working corpus from its seeds (test/fuzz/corpus/<target>,
        # where a finding's input is kept as a regression case).
        local work="$SFBRIDGE_ROOT/build/fuzz/corpus/$t" log="$SFBRIDGE_ROOT/build/fuzz/$t.log"
        mkdir -p "$work"
        if ! "$SFBRIDGE_ROOT/build/fuzz/${t}_fuzz" -max_total_time="$each" -max_len=65536 \
            -artifact_prefix="$findings/$t-" -print_final_stats=1 \
            "$work" "$SFBRIDGE_ROOT/test/fuzz/corpus/$t" >"$log" 2>&1; then
            tail -40 "$log" >&2
            echo "the $t fuzzer found a failing input: see build/fuzz/findings" >&2
            return 1
        fi
        printf '%-16s %s runs\n' "$t" \
            "$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')" >&2
    done
}

# Starts a throwaway PostgreSQL cluster in a temp directory on a free loopback port, as an
# unprivileged user. Sets PG_TMP, PG_PORT, PG_DSN, PG_CTL; stop it with stop_postgres.
#   start_postgres           for tests: fsync off, since durability buys nothing there
#   start_postgres durable   for benchmarks: the server's defaults, commits pay for fsync
start_postgres() {
    local mode=${1:-throwaway}
    PG_TMP=$(mktemp -d /tmp/sfbridge-pg.XXXXXX)
    local run_as=()
    if [[ $EUID -eq 0 ]]; then
        # PostgreSQL refuses to run as root; the postgres user comes with the server package.
        chown postgres: "$PG_TMP"
        run_as=(runuser -u postgres --)
    fi
    local password
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$password" >"$PG_TMP/pwfile"
    [[ $EUID -eq 0 ]] && chown postgres: "$PG_TMP/pwfile"
    "${run_as[@]}" "$PG_BIN/initdb" -D "$PG_TMP/data" -U sfbridge --pwfile="$PG_TMP/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1 ||
        { cat "$PG_TMP/initdb.log" >&2; return 1; }
    rm -f "$PG_TMP/pwfile"

    local attempt
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        PG_PORT=$((20000 + RANDOM % 30000))
        # Something answers there already: try another.
        if (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; then continue; fi
        cat >>"$PG_TMP/data/postgresql.conf" <<CONF
# sfbridge test cluster
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_TMP'
max_connections = 200
shared_buffers = 256MB
CONF
        if [[ $mode != durable ]]; then
            printf 'fsync = off\nfull_page_writes = off\n' >>"$PG_TMP/data/postgresql.conf"
        fi
        PG_CTL="${run_as[*]} $PG_BIN/pg_ctl -D $PG_TMP/data -l $PG_TMP/server.log"
        if $PG_CTL start -w -t 60 >/dev/null 2>&1; then
            PG_DSN="host=127.0.0.1 port=$PG_PORT user=sfbridge password=$password dbname=postgres"
            export PG_TMP PG_PORT PG_DSN PG_CTL
            return 0
        fi
        sed -i '/^# sfbridge test cluster/,$d' "$PG_TMP/data/postgresql.conf"
    done
    echo "could not start PostgreSQL; its log:" >&2
    cat "$PG_TMP/server.log" >&2 || true
    return 1
}

stop_postgres() {
    if [[ -n "${PG_TMP:-}" && -d "$PG_TMP" ]]; then
        $PG_CTL stop -m immediate >/dev/null 2>&1 || true
        rm -rf "$PG_TMP"
    fi
}

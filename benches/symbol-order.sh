#!/usr/bin/env bash
# Regenerate link/symbol-order.txt: the functions a release build of openim-init runs for
# the common commands (validate; generate to stdout and --out, new, up to date and changed;
# every backend; plain and rich manifests; the built-in one; --help), by name. build.rs
# asks the linker to place them together, so a run maps 1.0-1.7 MiB of code, not 3.6-3.9.
#
#   bash benches/symbol-order.sh          # rewrite the file
#   bash benches/symbol-order.sh --check  # how many of its names the current build has
#
# Rerun it after a toolchain or dependency update (symbol names carry hashes that change
# with both) or when the hot code changes; `--check` shows how stale the file is. Needs
# valgrind (callgrind) and nm.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
order=link/symbol-order.txt
target=${CARGO_TARGET_DIR:-target}
bin=$target/release/openim-init
work=$(mktemp -d -p "$( [[ -d /dev/shm ]] && echo /dev/shm || echo "${TMPDIR:-/tmp}")")
trap 'rm -rf "$work"' EXIT

# one at a time: built together, the example's dev-dependency features would change the
# binary (and its symbol names)
cargo build --release --quiet --example synth
cargo build --release --quiet --bin openim-init
nm --defined-only "$bin" | awk '$2 ~ /^[tTwW]$/ { print $3 }' | sort -u > "$work/text"

if [[ "${1:-}" == "--check" ]]; then
    found=$(sort "$order" | comm -12 - "$work/text" | wc -l)
    echo "$found of $(wc -l < "$order") names in $order are in $bin"
    exit 0
fi

run() {
    valgrind --tool=callgrind --demangle=no --compress-strings=no --compress-pos=no \
        --callgrind-out-file="$work/cg.%p" "$bin" "$@" > /dev/null 2>&1 || true
}

backends=(systemd openrc supervisord launchd runit s6 compose kubernetes)
# big enough that stdout spills past what it holds (512 KiB)
for shape_size in plain:2000 rich:600; do
    shape=${shape_size%:*}
    manifest="$work/$shape.toml"
    "$target/release/examples/synth" "$shape" "${shape_size#*:}" > "$manifest"
    # the container backends refuse a stack without an image: the same with a default one
    # (as benches/scale.rs gives them), else their code would be missing from the order
    { cat "$manifest"; printf '\n[defaults.container]\nimage = "openim/openim-server:v3.8.3"\n'; } \
        > "$work/$shape-image.toml"
    # every service changed: rich's `restart_delay` in `[defaults]` from 5s to 7s; plain has
    # no `[defaults]`, so one with it is added (a plain "changed" run that changed nothing
    # left the code reading `[defaults]` out of its group, spread over the binary)
    for m in "$shape" "$shape-image"; do
        if grep -q 'restart_delay = "5s"' "$work/$m.toml"; then
            sed 's/restart_delay = "5s"/restart_delay = "7s"/' "$work/$m.toml"
        else
            awk '/^\[services\./ && !done { print "[defaults]\nrestart_delay = \"7s\"\n"; done = 1 } 1' \
                "$work/$m.toml"
        fi > "$work/$m-changed.toml"
        ! cmp -s "$work/$m.toml" "$work/$m-changed.toml" || { echo "$m: nothing changed" >&2; exit 1; }
    done
    run validate --manifest "$manifest"
    for backend in "${backends[@]}"; do
        m=$shape
        [[ $backend == compose || $backend == kubernetes ]] && m=$shape-image
        out="$work/out-$shape-$backend"
        run generate --backend "$backend" --manifest "$work/$m.toml"
        run generate --backend "$backend" --manifest "$work/$m.toml" --out "$out"
        run generate --backend "$backend" --manifest "$work/$m.toml" --out "$out"
        run generate --backend "$backend" --manifest "$work/$m-changed.toml" --out "$out"
    done
done
for backend in "${backends[@]}"; do
    run generate --backend "$backend"
done
run validate -m "$work/plain.toml"
run --help

# Sorted by the list of runs that use them: grouped by the first run that needs them (the
# first is `validate`: start-up, the manifest, the model), within that, by the next, and so
# on; so the code every generate needs comes before each backend's own, which is together.
mkdir -p "$(dirname "$order")"
runs=0
for pid in $(cd "$work" && ls cg.* | sed 's/^cg\.//' | sort -n); do
    sed -n 's/^c\{0,1\}fn=\(([0-9]*) \)\{0,1\}//p' "$work/cg.$pid" | sort -u | sed "s/\$/ $runs/"
    runs=$((runs + 1))
done | awk '{ set[$1] = set[$1] sprintf("%03d,", $2) }
            END { for (f in set) printf "%s\t%s\n", set[f], f }' \
    | sort | cut -f2 | awk 'NR == FNR { text[$1] = 1; next } ($1 in text)' "$work/text" - \
    > "$order.tmp"
# first, code every run does that valgrind cannot show: the entry point, and SHA-256's
# SHA-NI path with the CPU feature probe that picks it (valgrind's CPU has no SHA
# extensions: each was a 64 KiB window of its own, far from the rest)
grep -E '^(_start|.*core_arch.*xsave.*xgetbv.*|.*sha2.*sha256.*x86.*digest_blocks.*)$' "$work/text" \
    | cat - "$order.tmp" | awk '!seen[$0]++' > "$order"
rm "$order.tmp"
echo "$(wc -l < "$order") functions in $order"

#!/usr/bin/env bash
# Tests for scripts/fetch-model. Never touches the network: every URL is a
# file:// URL to a copy of the distilbert-base-uncased files in shared/models.
#
# Usage: bash tests/fetch-model.test.sh
# Env:   BERTSCOPE_MODELS  models folder holding distilbert-base-uncased/ (default: <repo>/../shared/models)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${BERTSCOPE_MODELS:-$repo/../shared/models}/distilbert-base-uncased
fetch=$repo/scripts/fetch-model
files=(config.json tokenizer.json vocab.txt)

[[ -d $shared ]] || { echo "shared models not found: $shared" >&2; exit 1; }
unset BERTSCOPE_MODELS

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/src
mkdir -p "$src"
for f in "${files[@]}"; do cp "$shared/$f" "$src/$f"; chmod u+w "$src/$f"; done

sha() { sha256sum "$1" | cut -d' ' -f1; }
bytes() { wc -c <"$1" | tr -d ' '; }

# write_manifest OUT [NAME=SHA ...]: manifest of the files in $src, with the
# sha256 of NAME replaced by SHA where given.
write_manifest() {
  local out=$1 f digest override
  shift
  : >"$out"
  for f in "${files[@]}"; do
    digest=$(sha "$shared/$f")
    for override in "$@"; do [[ ${override%%=*} == "$f" ]] && digest=${override#*=}; done
    echo "$digest  $(bytes "$shared/$f")  distilbert-base-uncased/$f  file://$src/$f" >>"$out"
  done
}

# run OUTDIR [ARGS...]: run fetch-model into OUTDIR with $tmp/manifest;
# sets $out (stdout+stderr) and $rc.
run() {
  local dir=$1
  shift
  rc=0
  out=$("$fetch" --manifest "$tmp/manifest" --dest "$dir" "$@" 2>&1) || rc=$?
}

fail() { echo "    $*"; exit 1; }  # each test runs in its own subshell
no_part_files() { [[ -z $(find "$1" -name '*.part' 2>/dev/null) ]]; }

write_manifest "$tmp/manifest"

test_fresh_download() {
  run "$tmp/a"
  ((rc == 0)) || fail "exit $rc: $out"
  for f in "${files[@]}"; do
    cmp -s "$shared/$f" "$tmp/a/distilbert-base-uncased/$f" || fail "$f not landed intact"
  done
  [[ $(grep -c 'ok (downloaded, sha256 verified)' <<<"$out") == 3 ]] || fail "output: $out"
  no_part_files "$tmp/a" || fail ".part file left behind"
}

test_second_run_skips() {
  run "$tmp/a"
  ((rc == 0)) || fail "exit $rc: $out"
  [[ $(grep -c 'ok (already present)' <<<"$out") == 3 ]] || fail "output: $out"
  ! grep -q downloading <<<"$out" || fail "downloaded again: $out"
}

test_bad_checksum_in_manifest_refused() {
  local wrong
  wrong=$(printf 'not the tokenizer' | sha256sum | cut -d' ' -f1)
  write_manifest "$tmp/manifest" "tokenizer.json=$wrong"
  run "$tmp/b"
  write_manifest "$tmp/manifest"
  ((rc != 0)) || fail "exit 0 despite wrong checksum: $out"
  grep -q "tokenizer.json" <<<"$out" || fail "file not named: $out"
  grep -q "$wrong" <<<"$out" || fail "expected digest not shown: $out"
  grep -q "$(sha "$shared/tokenizer.json")" <<<"$out" || fail "actual digest not shown: $out"
  [[ ! -e $tmp/b/distilbert-base-uncased/tokenizer.json ]] || fail "bad file left in place"
  no_part_files "$tmp/b" || fail ".part file left behind"
}

test_modified_source_refused() {
  cp "$shared/vocab.txt" "$tmp/vocab.orig"
  echo "tampered" >>"$src/vocab.txt"
  local tampered
  tampered=$(sha "$src/vocab.txt")
  run "$tmp/c"
  cp "$tmp/vocab.orig" "$src/vocab.txt"
  ((rc != 0)) || fail "exit 0 despite modified source: $out"
  grep -q "vocab.txt" <<<"$out" || fail "file not named: $out"
  grep -q "$(sha "$shared/vocab.txt")" <<<"$out" || fail "expected digest not shown: $out"
  grep -q "$tampered" <<<"$out" || fail "actual digest not shown: $out"
  [[ ! -e $tmp/c/distilbert-base-uncased/vocab.txt ]] || fail "bad file left in place"
  no_part_files "$tmp/c" || fail ".part file left behind"
}

test_corrupted_destination_replaced() {
  local target=$tmp/a/distilbert-base-uncased/config.json
  echo '{"corrupted": true}' >"$target"
  run "$tmp/a"
  ((rc == 0)) || fail "exit $rc: $out"
  grep -q "config.json: present but its sha256 is wrong" <<<"$out" || fail "not reported: $out"
  cmp -s "$shared/config.json" "$target" || fail "config.json not replaced"
  no_part_files "$tmp/a" || fail ".part file left behind"
}

test_real_manifest_pins_match_shared_files() {
  local f line
  for f in "${files[@]}"; do
    line=$(awk -v p="distilbert-base-uncased/$f" '$3 == p' "$repo/scripts/models.manifest")
    [[ -n $line ]] || fail "no line for $f in scripts/models.manifest"
    read -r digest size _ url <<<"$line"
    [[ $digest == "$(sha "$shared/$f")" ]] || fail "$f: manifest sha256 $digest != shared file's"
    [[ $size == "$(bytes "$shared/$f")" ]] || fail "$f: manifest size $size != shared file's"
    [[ $url =~ ^https://huggingface\.co/.+/resolve/[0-9a-f]{40}/ ]] || fail "$f: URL not pinned to a commit: $url"
  done
}

test_offline_missing_file_fails() {
  mkdir -p "$tmp/d/distilbert-base-uncased"
  cp "$shared/config.json" "$shared/vocab.txt" "$tmp/d/distilbert-base-uncased/"
  run "$tmp/d" --offline
  ((rc != 0)) || fail "exit 0 with a missing file: $out"
  grep -q "tokenizer.json: missing, and --offline forbids downloading it" <<<"$out" || fail "output: $out"
  [[ ! -e $tmp/d/distilbert-base-uncased/tokenizer.json ]] || fail "downloaded despite --offline"
  run "$tmp/a" --offline
  ((rc == 0)) || fail "--offline with everything present: exit $rc: $out"
}

test_unpinned_entry_refused() {
  sed -i "s/^$(sha "$shared/vocab.txt")/UNVERIFIED/" "$tmp/manifest"
  run "$tmp/e"
  write_manifest "$tmp/manifest"
  ((rc != 0)) || fail "exit 0 with an unpinned entry: $out"
  grep -q "vocab.txt: REFUSED: no verified sha256" <<<"$out" || fail "output: $out"
  [[ ! -e $tmp/e/distilbert-base-uncased/vocab.txt ]] || fail "unpinned file was downloaded"
  [[ -f $tmp/e/distilbert-base-uncased/config.json ]] || fail "pinned files not fetched"
}

passed=0 failed=0 n=0
for t in test_fresh_download test_second_run_skips test_bad_checksum_in_manifest_refused \
  test_modified_source_refused test_corrupted_destination_replaced \
  test_real_manifest_pins_match_shared_files test_offline_missing_file_fails \
  test_unpinned_entry_refused; do
  n=$((n + 1))
  if ("$t"); then
    echo "ok $n - ${t#test_}"
    passed=$((passed + 1))
  else
    echo "FAIL $n - ${t#test_}"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
((failed == 0))

#!/usr/bin/env bash
# Tests for scripts/fetch-model and the model path of scripts/run. Never touches the network:
# tests/mirror-server.mjs serves a local copy of the hub's files on 127.0.0.1, and every run goes
# through BERTSCOPE_HUB_MIRROR, the same code path as a real download (only the URL prefix differs).
# The mirrored "model.onnx" is the tiny fp32 fill-mask DistilBERT of shared/models; the tokenizer
# files are the real distilbert-base-uncased ones.
#
# Usage: bash tests/fetch-model.test.sh
# Env:   BERTSCOPE_MODELS  models folder holding distilbert-base-uncased/ and
#                          distilbert-tiny-random-mlm/ (default: <repo>/../shared/models)
#        BERTSCOPE_BIN     bertscope binary for the quantize cases (default: this checkout's, in
#                          the optimised test profile: after scripts/test's `cargo test --workspace`
#                          that build is already done)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
models=${BERTSCOPE_MODELS:-$repo/../shared/models}
shared=$models/distilbert-base-uncased
tiny_model=$models/distilbert-tiny-random-mlm/model.onnx
fetch=$repo/scripts/fetch-model
manifest=$repo/scripts/models.manifest
files=(config.json tokenizer.json vocab.txt)
model=distilbert-base-uncased/model.onnx
quantized=distilbert-base-uncased/model_weights_int8.onnx

[[ -d $shared && -f $tiny_model ]] || { echo "shared models not found in $models" >&2; exit 1; }
unset BERTSCOPE_MODELS BERTSCOPE_HUB_MIRROR

tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

sha() { sha256sum "$1" | cut -d' ' -f1; }
bytes() { wc -c <"$1" | tr -d ' '; }
# url_of PATH: the URL the real manifest gives for PATH.
url_of() { awk -v p="$1" '$3 == p { print $4 }' "$manifest"; }
# source_of PATH: the local file the mirror serves for PATH.
source_of() { if [[ $1 == "$model" ]]; then echo "$tiny_model"; else echo "$shared/${1#*/}"; fi; }

# The mirror: the hub's paths (from the real manifest's URLs) under $hub.
hub=$tmp/hub
for rel in "${files[@]/#/distilbert-base-uncased/}" "$model"; do
  target=$hub/$(url_of "$rel" | sed 's|^https://huggingface.co/||')
  mkdir -p "$(dirname "$target")"
  cp "$(source_of "$rel")" "$target"
  chmod u+w "$target"
done
hub_model=$hub/$(url_of "$model" | sed 's|^https://huggingface.co/||')
model_url_path=/${hub_model#"$hub"/}

node "$repo/tests/mirror-server.mjs" "$hub" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q '^serving' "$tmp/server.log" && break; sleep 0.1; done
mirror=$(sed -n 's/^serving .* at //p' "$tmp/server.log")
[[ -n $mirror ]] || { echo "mirror server did not start: $(cat "$tmp/server.log")" >&2; exit 1; }
export BERTSCOPE_HUB_MIRROR=$mirror

# faults JSON: what the mirror does wrong from now on (see tests/mirror-server.mjs).
faults() { curl -sS --fail --noproxy '*' -X PUT --data "$1" "${mirror}__faults"; }
# requests_since N: the server's request lines after its first N lines.
requests_since() { tail -n "+$(($1 + 1))" "$tmp/server.log"; }
log_lines() { wc -l <"$tmp/server.log"; }

# run DIR [ARGS...]: download and verify into DIR with MANIFEST (default: the real one), without
# quantizing; sets $out (stdout+stderr) and $rc.
run() {
  local dir=$1
  shift
  rc=0
  out=$("$fetch" --manifest "${MANIFEST:-$manifest}" --dest "$dir" --no-quantize "$@" 2>&1) || rc=$?
}

fail() { echo "    $*"; exit 1; } # each test runs in its own subshell
no_part_files() { [[ -z $(find "$1" -name '*.part' 2>/dev/null) ]]; }
recorded() { awk -v p="$2" '$2 == p { print $1 }' "$1/SHA256SUMS" 2>/dev/null; }

# manifest_with PATH FIELD VALUE: a copy of the real manifest with field 1 (sha256) or 2 (size)
# of PATH's line replaced by VALUE.
manifest_with() {
  local out=$tmp/manifest.$RANDOM
  awk -v p="$1" -v f="$2" -v v="$3" '$3 == p { $f = v } { print }' "$manifest" >"$out"
  echo "$out"
}

test_first_download_recorded() {
  run "$tmp/a"
  ((rc == 0)) || fail "exit $rc: $out"
  for f in "${files[@]}"; do
    cmp -s "$shared/$f" "$tmp/a/distilbert-base-uncased/$f" || fail "$f not landed intact"
  done
  cmp -s "$tiny_model" "$tmp/a/$model" || fail "model.onnx not landed intact"
  [[ $(grep -c 'ok (downloaded, .* bytes, sha256 verified)' <<<"$out") == 3 ]] || fail "pinned files: $out"
  grep -q "$model: ok (downloaded, $(bytes "$tiny_model") bytes; no sha256 is pinned for it, so its sha256 $(sha "$tiny_model") is now recorded in $tmp/a/SHA256SUMS" <<<"$out" ||
    fail "digest not printed and recorded: $out"
  [[ $(cat "$tmp/a/SHA256SUMS") == "$(sha "$tiny_model")  $model" ]] || fail "SHA256SUMS: $(cat "$tmp/a/SHA256SUMS")"
  (cd "$tmp/a" && sha256sum --quiet -c SHA256SUMS) || fail "sha256sum -c SHA256SUMS fails"
  no_part_files "$tmp/a" || fail ".part file left behind"
}

test_second_run_verifies_and_skips() {
  local before
  before=$(log_lines)
  run "$tmp/a"
  ((rc == 0)) || fail "exit $rc: $out"
  [[ $(grep -c 'ok (already present, sha256 verified)' <<<"$out") == 4 ]] || fail "output: $out"
  [[ -z $(requests_since "$before") ]] || fail "requests made: $(requests_since "$before")"
  [[ $(wc -l <"$tmp/a/SHA256SUMS") == 1 ]] || fail "SHA256SUMS grew: $(cat "$tmp/a/SHA256SUMS")"
}

test_tampered_file_refused_with_reset_hint() {
  local dir=$tmp/t good tampered
  cp -r "$tmp/a" "$dir"
  good=$(sha "$tiny_model")
  printf 'x' >>"$dir/$model"
  tampered=$(sha "$dir/$model")
  run "$dir"
  ((rc != 0)) || fail "exit 0 with a changed file: $out"
  grep -q "$model: REFUSED: its sha256 is now $tampered, but $dir/SHA256SUMS recorded $good" <<<"$out" || fail "output: $out"
  grep -q "To download it again, delete the file: rm '$dir/$model'" <<<"$out" || fail "no delete hint: $out"
  grep -q "To accept the file as it is now, delete its line from $dir/SHA256SUMS" <<<"$out" || fail "no accept hint: $out"
  [[ $(sha "$dir/$model") == "$tampered" ]] || fail "the refused file was replaced"

  # First hint: delete the file; it is downloaded again and held to the record.
  rm "$dir/$model"
  run "$dir"
  ((rc == 0)) || fail "after deleting the file: exit $rc: $out"
  grep -q "$model: ok (downloaded, .* sha256 verified)" <<<"$out" || fail "not verified against the record: $out"
  cmp -s "$tiny_model" "$dir/$model" || fail "not downloaded again intact"

  # Second hint: delete its line; the file present is accepted and recorded.
  printf 'x' >>"$dir/$model"
  sed -i "\\|  $model\$|d" "$dir/SHA256SUMS"
  run "$dir"
  ((rc == 0)) || fail "after deleting the line: exit $rc: $out"
  grep -q "$model: ok (already present; no sha256 is pinned for it, so its sha256 $tampered is now recorded" <<<"$out" || fail "output: $out"
  [[ $(recorded "$dir" "$model") == "$tampered" ]] || fail "not recorded: $(cat "$dir/SHA256SUMS")"
}

test_server_sending_another_file_refused() {
  local dir=$tmp/s
  mkdir -p "$dir/distilbert-base-uncased"
  cp "$tmp/a/SHA256SUMS" "$dir/"
  printf 'x' >>"$hub_model"
  run "$dir"
  cp "$tiny_model" "$hub_model"
  ((rc != 0)) || fail "exit 0 although the server sent another file: $out"
  grep -q "$model: REFUSED: the download's sha256 is .*, but $dir/SHA256SUMS recorded $(sha "$tiny_model")" <<<"$out" || fail "output: $out"
  grep -q "To accept the new file, delete its line from $dir/SHA256SUMS" <<<"$out" || fail "no hint: $out"
  [[ ! -e $dir/$model ]] || fail "refused file left in place"
  no_part_files "$dir" || fail ".part file left behind"
}

test_interrupted_download_resumed() {
  local before
  before=$(log_lines)
  faults "{\"cut\": {\"path\": \"$model_url_path\", \"afterBytes\": 4000000, \"times\": 1}}"
  run "$tmp/r"
  faults '{}'
  ((rc == 0)) || fail "exit $rc: $out"
  grep -q "$model: download interrupted (curl exit code 18) with 4000000 bytes so far; trying again" <<<"$out" || fail "output: $out"
  grep -q "$model: resuming at byte 4000000" <<<"$out" || fail "output: $out"
  requests_since "$before" | grep -q "GET $model_url_path range=bytes=4000000- -> 206" ||
    fail "no ranged request: $(requests_since "$before")"
  cmp -s "$tiny_model" "$tmp/r/$model" || fail "resumed file not intact"
  [[ $(recorded "$tmp/r" "$model") == "$(sha "$tiny_model")" ]] || fail "not recorded"
  no_part_files "$tmp/r" || fail ".part file left behind"
}

test_download_kept_and_resumed_on_next_run() {
  faults "{\"cut\": {\"path\": \"$model_url_path\", \"afterBytes\": 4000000, \"times\": 3}}"
  run "$tmp/k"
  faults '{}'
  ((rc != 0)) || fail "exit 0 after 3 interruptions: $out"
  grep -q "$model: download incomplete (curl exit code 18); the 12000000 bytes so far are kept in $tmp/k/$model.part: run scripts/fetch-model again to resume" <<<"$out" ||
    fail "output: $out"
  [[ ! -e $tmp/k/$model ]] || fail "half-written file in place"
  [[ $(bytes "$tmp/k/$model.part") == 12000000 ]] || fail ".part not kept"
  [[ -z $(recorded "$tmp/k" "$model") ]] || fail "incomplete file recorded"
  run "$tmp/k"
  ((rc == 0)) || fail "second run: exit $rc: $out"
  grep -q "$model: resuming at byte 12000000" <<<"$out" || fail "second run did not resume: $out"
  cmp -s "$tiny_model" "$tmp/k/$model" || fail "resumed file not intact"
  no_part_files "$tmp/k" || fail ".part file left behind"
}

test_complete_part_file_verified_and_kept() {
  # Stopped after the transfer but before the rename: the server answers the range with 416.
  local before
  before=$(log_lines)
  mkdir -p "$tmp/p/distilbert-base-uncased"
  cp "$tiny_model" "$tmp/p/$model.part"
  run "$tmp/p"
  ((rc == 0)) || fail "exit $rc: $out"
  grep -q "$model: resuming at byte $(bytes "$tiny_model")" <<<"$out" || fail "output: $out"
  [[ $(requests_since "$before" | grep "$model_url_path") == "GET $model_url_path range=bytes=$(bytes "$tiny_model")- -> 416" ]] ||
    fail "downloaded again: $(requests_since "$before")"
  cmp -s "$tiny_model" "$tmp/p/$model" || fail "file not intact"
  no_part_files "$tmp/p" || fail ".part file left behind"
}

test_server_ignoring_range_restarts() {
  local before
  before=$(log_lines)
  faults "{\"cut\": {\"path\": \"$model_url_path\", \"afterBytes\": 4000000, \"times\": 1}, \"ignoreRange\": true}"
  run "$tmp/g"
  faults '{}'
  ((rc == 0)) || fail "exit $rc: $out"
  grep -q "$model: the server cannot resume a download (it ignored the byte range); starting over" <<<"$out" || fail "output: $out"
  requests_since "$before" | grep -q "GET $model_url_path range=bytes=4000000- -> 200" ||
    fail "server log: $(requests_since "$before")"
  cmp -s "$tiny_model" "$tmp/g/$model" || fail "file not intact"
  no_part_files "$tmp/g" || fail ".part file left behind"
}

test_not_found_is_a_plain_message() {
  mkdir -p "$tmp/n/distilbert-base-uncased"
  head -c 1000 "$tiny_model" >"$tmp/n/$model.part"
  mv "$hub_model" "$tmp/hidden.onnx"
  run "$tmp/n"
  mv "$tmp/hidden.onnx" "$hub_model"
  ((rc != 0)) || fail "exit 0 on a 404: $out"
  grep -q "fetch-model: $model: download failed: the server answered HTTP 404 for ${mirror}Xenova/" <<<"$out" || fail "output: $out"
  [[ ! -e $tmp/n/$model ]] || fail "file in place after a 404"
  no_part_files "$tmp/n" || fail ".part file left behind after a 404"
}

test_wrong_size_refused() {
  MANIFEST=$(manifest_with "$model" 2 123456) run "$tmp/z"
  ((rc != 0)) || fail "exit 0 with a wrong size: $out"
  grep -q "$model: size mismatch, download deleted: expected 123456 bytes, got $(bytes "$tiny_model")" <<<"$out" || fail "output: $out"
  [[ ! -e $tmp/z/$model ]] || fail "file in place"
  [[ -z $(recorded "$tmp/z" "$model") ]] || fail "recorded anyway"
  no_part_files "$tmp/z" || fail ".part file left behind"
}

test_bad_checksum_in_manifest_refused() {
  local wrong
  wrong=$(printf 'not the tokenizer' | sha256sum | cut -d' ' -f1)
  MANIFEST=$(manifest_with distilbert-base-uncased/tokenizer.json 1 "$wrong") run "$tmp/b"
  ((rc != 0)) || fail "exit 0 despite wrong checksum: $out"
  grep -q "tokenizer.json: checksum mismatch, download deleted" <<<"$out" || fail "output: $out"
  grep -q "$wrong" <<<"$out" || fail "expected digest not shown: $out"
  grep -q "$(sha "$shared/tokenizer.json")" <<<"$out" || fail "actual digest not shown: $out"
  [[ ! -e $tmp/b/distilbert-base-uncased/tokenizer.json ]] || fail "bad file left in place"
  no_part_files "$tmp/b" || fail ".part file left behind"
}

test_modified_source_refused() {
  local hub_vocab tampered
  hub_vocab=$hub/$(url_of distilbert-base-uncased/vocab.txt | sed 's|^https://huggingface.co/||')
  echo "tampered" >>"$hub_vocab"
  tampered=$(sha "$hub_vocab")
  run "$tmp/c"
  cp "$shared/vocab.txt" "$hub_vocab"
  ((rc != 0)) || fail "exit 0 despite modified source: $out"
  grep -q "vocab.txt: checksum mismatch" <<<"$out" || fail "output: $out"
  grep -q "$(sha "$shared/vocab.txt")" <<<"$out" || fail "expected digest not shown: $out"
  grep -q "$tampered" <<<"$out" || fail "actual digest not shown: $out"
  [[ ! -e $tmp/c/distilbert-base-uncased/vocab.txt ]] || fail "bad file left in place"
  no_part_files "$tmp/c" || fail ".part file left behind"
}

test_corrupted_pinned_file_replaced() {
  local target=$tmp/a/distilbert-base-uncased/config.json
  echo '{"corrupted": true}' >"$target"
  run "$tmp/a"
  ((rc == 0)) || fail "exit $rc: $out"
  grep -q "config.json: present but its sha256 is wrong" <<<"$out" || fail "not reported: $out"
  cmp -s "$shared/config.json" "$target" || fail "config.json not replaced"
  no_part_files "$tmp/a" || fail ".part file left behind"
}

test_real_manifest_pins_match_shared_files() {
  local f line digest size url
  for f in "${files[@]}"; do
    line=$(awk -v p="distilbert-base-uncased/$f" '$3 == p' "$manifest")
    [[ -n $line ]] || fail "no line for $f in scripts/models.manifest"
    read -r digest size _ url <<<"$line"
    [[ $digest == "$(sha "$shared/$f")" ]] || fail "$f: manifest sha256 $digest != shared file's"
    [[ $size == "$(bytes "$shared/$f")" ]] || fail "$f: manifest size $size != shared file's"
    [[ $url =~ ^https://huggingface\.co/.+/resolve/[0-9a-f]{40}/ ]] || fail "$f: URL not pinned to a commit: $url"
  done
  [[ $(url_of "$model") == https://huggingface.co/Xenova/distilbert-base-uncased/resolve/5d73105e39e322b779ff7a8fcd11530fa579165b/onnx/model.onnx ]] ||
    fail "model URL: $(url_of "$model")"
  grep -qx "quantize  $model  $quantized  distilbert-base-uncased/tokenizer.json" "$manifest" || fail "no quantize line"
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

test_old_unverified_marker_is_a_manifest_error() {
  MANIFEST=$(manifest_with "$model" 1 UNVERIFIED) run "$tmp/e"
  ((rc != 0)) || fail "exit 0 with a malformed sha256 field: $out"
  grep -q "'UNVERIFIED' is neither a sha256 (64 hex digits) nor '-'" <<<"$out" || fail "output: $out"
}

test_plain_http_mirror_elsewhere_refused() {
  rc=0
  out=$(BERTSCOPE_HUB_MIRROR=http://example.com/ "$fetch" --dest "$tmp/h" --no-quantize 2>&1) || rc=$?
  ((rc != 0)) || fail "exit 0 with an http mirror on another machine: $out"
  grep -q "BERTSCOPE_HUB_MIRROR must be an https:// URL, or an http:// URL on this machine" <<<"$out" || fail "output: $out"
  [[ ! -e $tmp/h/distilbert-base-uncased ]] || fail "downloaded something"
}

# The quantize cases need the real `bertscope quantize`. Built as `cargo test --workspace` builds
# it (same profile and features), so that after it this costs nothing.
bertscope_bin() {
  if [[ -n ${BERTSCOPE_BIN:-} ]]; then echo "$BERTSCOPE_BIN"; return; fi
  (cd "$repo" && cargo build --quiet --profile test --workspace --bins) >&2
  echo "${CARGO_TARGET_DIR:-$repo/target}/debug/bertscope"
}

# expect_weight_only_int8 MODEL TOKENIZER: bertscope loads MODEL as the weight-only int8 fill-mask
# export of the tiny model, and runs it.
expect_weight_only_int8() {
  local info
  info=$("$BERTSCOPE_BIN" info --model "$1" --tokenizer "$2") || fail "bertscope info failed on $1"
  grep -q '"quantization": "weight-only int8 (per-channel)"' <<<"$info" || fail "info: $info"
  grep -q '"fill_mask": true' <<<"$info" || fail "info: $info"
  grep -q '"layers": 2' <<<"$info" || fail "info: $info"
  "$BERTSCOPE_BIN" fill-mask --model "$1" --tokenizer "$2" --text "I am eating an [MASK]" --k 3 >/dev/null ||
    fail "fill-mask failed on $1"
}

test_quantize_makes_the_default_model() {
  local dir=$tmp/q mtime
  cp -r "$tmp/r" "$dir"
  rc=0
  out=$("$fetch" --dest "$dir" 2>&1) || rc=$?
  ((rc == 0)) || fail "exit $rc: $out"
  grep -q "$quantized: quantizing $model (weight-only int8, bertscope quantize)" <<<"$out" || fail "output: $out"
  grep -q "$quantized: ok (quantized in [0-9]* s)" <<<"$out" || fail "output: $out"
  [[ -f $dir/$quantized ]] || fail "no $quantized"
  (($(bytes "$dir/$quantized") < $(bytes "$tiny_model") / 2)) || fail "not smaller: $(bytes "$dir/$quantized") bytes"
  expect_weight_only_int8 "$dir/$quantized" "$dir/distilbert-base-uncased/tokenizer.json"
  no_part_files "$dir" || fail ".part file left behind"

  mtime=$(stat -c %y "$dir/$quantized")
  out=$("$fetch" --dest "$dir" 2>&1) || fail "second run: $out"
  grep -q "$quantized: ok (already quantized from $model)" <<<"$out" || fail "second run: $out"
  [[ $(stat -c %y "$dir/$quantized") == "$mtime" ]] || fail "quantized again"

  touch "$dir/$model"
  out=$("$fetch" --dest "$dir" 2>&1) || fail "after touching the input: $out"
  grep -q "$quantized: ok (quantized in" <<<"$out" || fail "not quantized again for a newer input: $out"
}

test_fresh_clone_gets_the_default_model() {
  # A clone with no ../shared/models beside it: scripts/run's models_dir and default_model.
  local clone=$tmp/clone/bertscope dir spec
  git clone --quiet --no-checkout "$repo" "$clone"
  git -C "$clone" checkout --quiet "$(git -C "$repo" rev-parse HEAD)"
  [[ ! -e $clone/../shared/models && ! -e $clone/models ]] || fail "clone is not fresh"
  dir=$(cd "$clone" && bash -c 'source scripts/lib/common.sh && models_dir' 2>"$tmp/clone.err") ||
    fail "models_dir failed: $(cat "$tmp/clone.err")"
  [[ $dir == "$clone/models" ]] || fail "models_dir: $dir"
  spec=$(cd "$clone" && bash -c 'source scripts/lib/common.sh && default_model "$1"' _ "$dir")
  [[ $spec == "distilbert-base-uncased/model_weights_int8.onnx|distilbert-base-uncased/tokenizer.json|distilbert-base-uncased (weight-only int8)" ]] ||
    fail "default_model: $spec"
  grep -q "$model: ok (downloaded" "$tmp/clone.err" || fail "not downloaded: $(cat "$tmp/clone.err")"
  grep -q "$quantized: ok (quantized in" "$tmp/clone.err" || fail "not quantized: $(cat "$tmp/clone.err")"
  expect_weight_only_int8 "$dir/$quantized" "$dir/distilbert-base-uncased/tokenizer.json"
  [[ -z $(git -C "$clone" status --porcelain) ]] || fail "the clone's tree changed: $(git -C "$clone" status --porcelain)"
}

passed=0 failed=0 n=0
check() {
  n=$((n + 1))
  if ("$1"); then
    echo "ok $n - ${1#test_}"
    passed=$((passed + 1))
  else
    echo "FAIL $n - ${1#test_}"
    failed=$((failed + 1))
  fi
}
for t in test_first_download_recorded test_second_run_verifies_and_skips \
  test_tampered_file_refused_with_reset_hint test_server_sending_another_file_refused \
  test_interrupted_download_resumed test_download_kept_and_resumed_on_next_run \
  test_complete_part_file_verified_and_kept test_server_ignoring_range_restarts \
  test_not_found_is_a_plain_message test_wrong_size_refused test_bad_checksum_in_manifest_refused \
  test_modified_source_refused test_corrupted_pinned_file_replaced \
  test_real_manifest_pins_match_shared_files test_offline_missing_file_fails \
  test_old_unverified_marker_is_a_manifest_error test_plain_http_mirror_elsewhere_refused; do
  check "$t"
done

if BERTSCOPE_BIN=$(bertscope_bin) && [[ -x $BERTSCOPE_BIN ]]; then
  export BERTSCOPE_BIN
  for t in test_quantize_makes_the_default_model test_fresh_clone_gets_the_default_model; do check "$t"; done
else
  echo "FAIL - could not build the bertscope CLI for the quantize cases"
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
((failed == 0))

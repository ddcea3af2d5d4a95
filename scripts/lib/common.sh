# Shared by scripts/*: repository paths, model location, installs that skip what is present.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The models folder: $BERTSCOPE_MODELS, else ../shared/models (this workplace), else ./models, where
# scripts/fetch-model downloads the real DistilBERT and quantizes it (skipping what is done).
models_dir() {
  if [ -n "${BERTSCOPE_MODELS:-}" ]; then
    echo "$BERTSCOPE_MODELS"
  elif [ -d "$ROOT/../shared/models" ]; then
    (cd "$ROOT/../shared/models" && pwd)
  else
    "$ROOT/scripts/fetch-model" --dest "$ROOT/models" >&2
    echo "$ROOT/models"
  fi
}

# The default model inside a models folder: the faithful weight-only MiniLM where present, else
# the weight-only int8 DistilBERT that scripts/fetch-model makes.
default_model() {
  local dir="$1"
  if [ -f "$dir/minilm-l6/model_weights_int8.onnx" ]; then
    echo "minilm-l6/model_weights_int8.onnx|minilm-l6/tokenizer.json|all-MiniLM-L6-v2 (weight-only int8)"
  else
    echo "distilbert-base-uncased/model_weights_int8.onnx|distilbert-base-uncased/tokenizer.json|distilbert-base-uncased (weight-only int8)"
  fi
}

have() { command -v "$1" >/dev/null 2>&1; }

ensure_rust_wasm() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || { say "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; }
  have wasm-pack || { say "cargo install wasm-pack"; cargo install wasm-pack --version 0.15.1; }
  local want
  want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    say "cargo install wasm-bindgen-cli $want"
    cargo install wasm-bindgen-cli --version "$want" --force
  fi
}

ensure_browsers() {
  local missing=()
  for pkg in chromium chromium-driver firefox-esr; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
  have geckodriver || { say "cargo install geckodriver"; cargo install geckodriver --version 0.37.1; }
}

ensure_cargo_deny() {
  have cargo-deny || { say "cargo install cargo-deny"; cargo install cargo-deny --version 0.20.2 --locked; }
}

# The Python of the reference tests (tests/reference/*.py: onnx_reference.py run by
# crates/bertscope-core/tests/onnxruntime.rs, mixing_reference.py and pair_reference.py run by
# scripts/test): a venv in $CARGO_TARGET_DIR/pyref-venv with the onnxruntime, onnx, numpy and
# tokenizers versions that made ../shared/models, (re)made only when they are missing. Exports
# BERTSCOPE_PYTHON, which those tests need.
ensure_python_refs() {
  local venv="$CARGO_TARGET_DIR/pyref-venv"
  local check='import numpy, onnx, onnxruntime, tokenizers; assert (onnxruntime.__version__, onnx.__version__, numpy.__version__, tokenizers.__version__) == ("1.32.0", "1.23.2", "2.4.6", "0.22.2")'
  if ! "$venv/bin/python" -c "$check" 2>/dev/null; then
    say "Python references (onnxruntime, onnx, numpy, tokenizers) in $venv"
    python3 -m venv "$venv" 2>/dev/null || {
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && python3 -m venv --clear "$venv"
    }
    "$venv/bin/pip" install -q onnxruntime==1.32.0 onnx==1.23.2 numpy==2.4.6 tokenizers==0.22.2
  fi
  export BERTSCOPE_PYTHON="$venv/bin/python"
}

ensure_npm() {
  local dir="$1"
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# Builds the wasm package into www/pkg: Cargo profile wasm-release (release with load-time and
# tokenizer crates optimised for size, see Cargo.toml), simd128 from .cargo/config.toml, then
# without the function-name section (BERTSCOPE_WASM_NAMES=1 keeps it, for readable wasm stack traces).
build_wasm() {
  say "building the wasm engine"
  wasm-pack --log-level warn build "$ROOT/crates/bertscope-wasm" --target web --profile wasm-release --out-dir "$ROOT/www/pkg" --out-name bertscope_wasm || return
  [ "${BERTSCOPE_WASM_NAMES:-}" = 1 ] || node "$ROOT/scripts/strip-wasm-names.mjs" "$ROOT/www/pkg/bertscope_wasm_bg.wasm"
}

# Builds the threaded wasm package into www/pkg-threads, which the explorer page runs when it is
# cross-origin isolated (www/src/engine/threads.ts): the `threads` feature, atomics (so std is
# rebuilt: -Z build-std, allowed on stable by RUSTC_BOOTSTRAP=1) and a shared memory of up to 4 GB.
# Its own target directory ($CARGO_TARGET_DIR/threads), so the flags do not invalidate the others.
build_wasm_threads() {
  say "building the threaded wasm engine"
  rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src
  local flags="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128"
  flags+=" -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296"
  flags+=" -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base"
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR/threads" RUSTFLAGS="$flags" RUSTC_BOOTSTRAP=1 \
    wasm-pack --log-level warn build "$ROOT/crates/bertscope-wasm" --target web --profile wasm-release \
    --out-dir "$ROOT/www/pkg-threads" --out-name bertscope_wasm -- --features threads -Z build-std=panic_abort,std || return
  [ "${BERTSCOPE_WASM_NAMES:-}" = 1 ] || node "$ROOT/scripts/strip-wasm-names.mjs" "$ROOT/www/pkg-threads/bertscope_wasm_bg.wasm"
}

# Builds the page and the embeddable widget (bert-attention.js, example-post.html) into www/dist
# and links the default model beside them (where the widget looks for it by default); the page
# names that model. Copies the threaded engine to www/dist/threads/ when www/pkg-threads holds one.
build_page() {
  local models="$1" spec model tokenizer
  spec="$(default_model "$models")"
  model="${spec%%|*}"; tokenizer="$(echo "$spec" | cut -d'|' -f2)"
  say "building the page and the widget"
  # `|| return`: these functions also run where errexit is off (`bash -c "… && build_page"`), and
  # a type error must fail the build rather than leave the last page in www/dist.
  (cd "$ROOT/www" && VITE_DEFAULT_MODEL_NAME="${spec##*|}" npm run --silent build) || return
  # The threaded engine, when built (build_wasm_threads): the page runs it where it is cross-origin isolated.
  if [ -f "$ROOT/www/pkg-threads/bertscope_wasm_bg.wasm" ]; then
    mkdir -p "$ROOT/www/dist/threads"
    cp "$ROOT/www/pkg-threads/bertscope_wasm.js" "$ROOT/www/pkg-threads/bertscope_wasm_bg.wasm" "$ROOT/www/dist/threads/"
    # Names this build (its file name has no hash) in the key of the engine the page keeps between
    # visits (www/src/engine/snapshot.ts): a kept engine of another build is never restored into it.
    sha256sum "$ROOT/www/dist/threads/bertscope_wasm_bg.wasm" | cut -d' ' -f1 >"$ROOT/www/dist/threads/build-id.txt"
  fi
  mkdir -p "$ROOT/www/dist/models/default"
  ln -sf "$models/$model" "$ROOT/www/dist/models/default/model.onnx"
  ln -sf "$models/$tokenizer" "$ROOT/www/dist/models/default/tokenizer.json"
}

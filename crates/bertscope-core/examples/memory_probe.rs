//! Where a model's memory goes, natively and with bertscope's own kernels (the wasm engine's
//! path): bytes live and the peak live bytes of each phase (load, plan for one sentence, a long
//! run, a batch-2 plan), from a counting allocator. Deterministic, unlike timings, so it can tell
//! a change that saves memory from one that does not. A benchmark: it prints and never fails on a
//! number.
//!
//! `cargo run --release -p bertscope-core --example memory_probe -- MODEL.onnx TOKENIZER.json [TOKENS]`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bertscope_core::{Engine, LoadOptions, MatMulKernel};

/// The system allocator, counting the bytes live and the most live since [`Counting::phase`].
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    /// Starts a phase: its peak starts from what is live now.
    fn phase() {
        PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    fn grew(by: usize) {
        let live = LIVE.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; the counters
// only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, passed on as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            Self::grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc`/`realloc` above, i.e. from `System`, with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; `System` gets the caller's valid `new_size`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            Self::grew(new_size);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn report(what: &str) {
    let mb = |bytes: usize| bytes as f64 / 1e6;
    println!(
        "{what}: live {:.1} MB, peak live in this phase {:.1} MB",
        mb(LIVE.load(Ordering::Relaxed)),
        mb(PEAK.load(Ordering::Relaxed))
    );
    Counting::phase();
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, tokenizer, rest @ ..] = args.as_slice() else {
        return Err("usage: memory_probe MODEL.onnx TOKENIZER.json [TOKENS]".into());
    };
    let tokens: usize = rest.first().map_or(Ok(512), |t| t.parse())?;
    let (model, tokenizer) = (std::fs::read(model)?, std::fs::read(tokenizer)?);
    report("files read");
    let options = LoadOptions { matmul: MatMulKernel::Packed, ..LoadOptions::default() };
    let engine = Engine::from_owned(model, &tokenizer, options)?;
    report("loaded (file freed)");
    engine.prepare(1)?;
    report("plan for 1 sentence");
    let text = "word ".repeat(tokens.saturating_sub(2));
    let run = engine.run(&[text.as_str()])?;
    report(&format!("a {}-token run (result held)", run.batch.seq_len));
    drop(run);
    report("result dropped");
    engine.prepare(2)?;
    report("plan for 2 sentences");
    Ok(())
}

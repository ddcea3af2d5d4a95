//! The thread pool of the threaded build (`threads` feature): rayon's global pool, whose threads
//! are the engine's worker itself and Web Workers sharing this instance's memory. The pool starts
//! once the model is loaded (or a kept engine restored, www/src/engine/snapshot.ts): until then
//! nothing here asks rayon for a pool, which would make a default one of one thread
//! (`bertscope_core::kernels::split::global_pool_made`). The engine's worker first starts one
//! worker per other thread; each instantiates the same module on the same
//! memory and calls [`run_pool_thread`], which waits for a thread of the pool and then runs it for
//! good. Then the engine's worker calls [`start_thread_pool`], which makes itself the pool's first
//! thread, hands the others to those workers and returns once they all run (so it must not be
//! called before the workers are up). Being in the pool, the engine's worker takes its share of
//! every split: bertscope's products (`bertscope_core::kernels::split`) and tract's own row-wise
//! ops (softmax, element-wise maps, reductions, broadcast arithmetic), which split over rayon's
//! global pool once it is tract's executor.
//!
//! A pool thread that traps (a panic or a failed allocation: both abort) cannot be heard by the
//! engine's worker, which waits for that thread's part for ever: the thread's worker tells the
//! page itself (www/src/engine/pool-thread.ts), which ends the engine and starts a fresh one.

use std::sync::{Condvar, Mutex, MutexGuard};

use rayon::ThreadBuilder;
use wasm_bindgen::prelude::*;

/// Pool threads made by rayon and not yet taken by a worker.
static WAITING: Mutex<Vec<ThreadBuilder>> = Mutex::new(Vec::new());
/// Signalled when a thread is added to [`WAITING`].
static ARRIVED: Condvar = Condvar::new();

fn waiting() -> MutexGuard<'static, Vec<ThreadBuilder>> {
    WAITING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes the pool of the calling thread and `others` more, and returns once `others` workers in
/// [`run_pool_thread`] have taken those; then makes the pool tract's executor. Refused if a pool
/// exists already or `others` is 0.
#[wasm_bindgen(js_name = startThreadPool)]
pub fn start_thread_pool(others: usize) -> Result<(), JsError> {
    if others == 0 {
        return Err(JsError::new("a thread pool needs at least one thread besides the engine's"));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(others + 1)
        .use_current_thread()
        .spawn_handler(|thread| {
            waiting().push(thread);
            ARRIVED.notify_one();
            Ok(())
        })
        .build_global()
        .map_err(|e| JsError::new(&format!("the thread pool could not start: {e}")))?;
    tract_linalg::multithread::set_default_executor(tract_linalg::multithread::Executor::RayonGlobal);
    bertscope_core::kernels::split::global_pool_made();
    Ok(())
}

/// Waits for a thread of the pool ([`start_thread_pool`]) and runs it on the calling worker, for
/// as long as the instance lives.
#[wasm_bindgen(js_name = runPoolThread)]
pub fn run_pool_thread() {
    let mut queue = waiting();
    let thread = loop {
        match queue.pop() {
            Some(thread) => break thread,
            None => queue = ARRIVED.wait(queue).unwrap_or_else(|e| e.into_inner()),
        }
    };
    drop(queue);
    thread.run();
}

/// How many threads the products split over: the pool's and the calling one (1 until a pool is
/// started, and in the pool's own threads the pool's).
#[wasm_bindgen(js_name = poolThreads)]
pub fn pool_threads() -> usize {
    bertscope_core::kernels::split::threads()
}

/// Test-only fault, for tests/e2e/pool-crash.test.mjs and nothing else (neither the page nor the
/// widget calls it): every pool thread but the calling one panics, and so traps, while the calling
/// thread waits for them, as it waits for its parts of a product when a part's thread traps. Does
/// nothing more; refused outside the pool (before [`start_thread_pool`]).
#[wasm_bindgen(js_name = testPanicInPoolThreads)]
pub fn test_panic_in_pool_threads() -> Result<(), JsError> {
    if rayon::current_thread_index().is_none() {
        return Err(JsError::new("no thread pool runs on this thread"));
    }
    rayon::broadcast(|thread| {
        if thread.index() != 0 {
            panic!("test fault: pool thread {} panics on purpose (testPanicInPoolThreads)", thread.index());
        }
    });
    Ok(())
}

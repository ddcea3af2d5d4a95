//! Where loading a model spends its time: each phase (decoding the file, rewriting it, parsing,
//! typing, optimising...) is recorded with its start and end, read by a clock the host sets
//! ([`set_clock`]; in wasm the bindings give `performance.now`). Without a clock nothing is
//! recorded and a phase costs one atomic load. The page turns the phases into User Timing
//! measures (DevTools shows them) and the cold-start benchmark reads them.

use std::sync::{Mutex, OnceLock};

/// One timed phase, in the clock's milliseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Phase {
    /// What was done, in a few words ("decode the file", "optimise the plan").
    pub name: String,
    /// When it started.
    pub start_ms: f64,
    /// When it ended.
    pub end_ms: f64,
}

static CLOCK: OnceLock<fn() -> f64> = OnceLock::new();
static PHASES: Mutex<Vec<Phase>> = Mutex::new(Vec::new());

/// Most phases kept before [`take_phases`] reads them (a host that never reads them loses the
/// oldest, so the record stays bounded).
const MAX_PHASES: usize = 256;

/// Starts recording phases, timed by `clock` (milliseconds). The first clock set stays.
pub fn set_clock(clock: fn() -> f64) {
    let _ = CLOCK.set(clock);
}

/// The phases recorded since the last call, oldest first.
pub fn take_phases() -> Vec<Phase> {
    std::mem::take(&mut *PHASES.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
}

/// Runs `f`, recording it as the phase `name` when a clock is set.
pub(crate) fn phase<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let Some(clock) = CLOCK.get() else { return f() };
    let start_ms = clock();
    let out = f();
    let end_ms = clock();
    let mut phases = PHASES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if phases.len() >= MAX_PHASES {
        phases.remove(0);
    }
    phases.push(Phase { name: name.to_string(), start_ms, end_ms });
    out
}

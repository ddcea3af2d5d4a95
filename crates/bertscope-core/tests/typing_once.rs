//! Loading types the graph for the first run's batch size (`LoadOptions::first_batch`) and keeps
//! that typing: the plans of that batch size, with the mixing outputs and without, start from it
//! instead of typing the graph again, and give what freshly typed plans give. A test binary of its
//! own: it reads the process-wide record of loading phases (`timing`).

mod common;

use std::sync::OnceLock;
use std::time::Instant;

use bertscope_core::{timing, BatchRun, Engine, LoadOptions};
use bertscope_testkit::{max_abs_diff, DEFAULT_CASE};

const TEXTS: [&str; 2] = ["Apple is huge enterprise", "I am eating an apple"];

fn clock() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// How many times the graph was typed since the last call.
fn typings() -> usize {
    timing::take_phases().iter().filter(|p| p.name == "type the graph").count()
}

/// The largest difference between two runs' attentions and hidden states, sentence by sentence.
fn largest_difference(a: &BatchRun, b: &BatchRun) -> f32 {
    assert_eq!(a.runs.len(), b.runs.len());
    a.runs
        .iter()
        .zip(&b.runs)
        .map(|(x, y)| {
            let attention = max_abs_diff(x.attention.as_slice(), y.attention.as_slice());
            attention.max(max_abs_diff(x.hidden.last(), y.hidden.last()))
        })
        .fold(0.0, f32::max)
}

#[test]
fn the_first_runs_plans_start_from_the_typing_of_the_load() {
    timing::set_clock(clock);
    let (model, tokenizer) = (common::read(DEFAULT_CASE.model), common::read(DEFAULT_CASE.tokenizer));
    typings();

    let kept = Engine::new(&model, &tokenizer, LoadOptions { first_batch: 2, ..Default::default() }).unwrap();
    assert_eq!(typings(), 1, "loading types the graph once");
    let mixed = kept.run_with_mixing(&TEXTS).unwrap();
    let plain = kept.run(&TEXTS).unwrap();
    assert_eq!(typings(), 0, "both plans for 2 sentences start from the load's typing");
    assert!(plain.runs.iter().all(|r| r.mixing.is_none()) && mixed.runs.iter().all(|r| r.mixing.is_some()));
    assert!(largest_difference(&plain, &mixed) <= 1e-6, "{}", largest_difference(&plain, &mixed));
    kept.run(&TEXTS[..1]).unwrap();
    assert_eq!(typings(), 1, "another batch size is typed anew");

    // Loaded for one sentence: the 2-sentence plans type the graph again (once for both).
    let fresh = Engine::new(&model, &tokenizer, LoadOptions::default()).unwrap();
    let fresh_plain = fresh.run(&TEXTS).unwrap();
    let fresh_mixed = fresh.run_with_mixing(&TEXTS).unwrap();
    assert_eq!(typings(), 2, "the load's typing, then one for 2 sentences");
    assert!(largest_difference(&plain, &fresh_plain) <= 1e-6, "{}", largest_difference(&plain, &fresh_plain));
    assert!(largest_difference(&mixed, &fresh_mixed) <= 1e-6, "{}", largest_difference(&mixed, &fresh_mixed));
    let taps = |run: &BatchRun| run.runs.iter().map(|r| r.mixing.clone()).collect::<Vec<_>>();
    assert_eq!(taps(&mixed), taps(&fresh_mixed), "the same mixing tensors");
}

//! Throughput of the fairness accumulator (the issue asks for 1M rows in ≤ 0.5 s), a
//! benchmark program: `cargo run --release -p verity-monitor --example fairness_bench`.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Instant;

use verity_monitor::fairness::{FairnessAccumulator, FairnessConfig, GroupSelector};

fn main() {
    const N: usize = 1_000_000;
    let values = ["female", "male", "other", "unknown"];
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 33
    };
    let labels: Vec<bool> = (0..N).map(|_| next() % 2 == 0).collect();
    let predictions: Vec<bool> = (0..N).map(|_| next() % 3 == 0).collect();
    let sex: Vec<&str> = (0..N).map(|_| values[(next() % 4) as usize]).collect();
    let band_names: Vec<String> = (0..8).map(|b| format!("band{b}")).collect();
    let band: Vec<&str> = (0..N)
        .map(|_| band_names[(next() % 8) as usize].as_str())
        .collect();
    let config = FairnessConfig {
        privileged: vec![GroupSelector::exact(["male"])],
    };

    let start = Instant::now();
    let mut acc = FairnessAccumulator::new(["sex"]).unwrap();
    for i in (0..N).step_by(8192) {
        let end = (i + 8192).min(N);
        acc.push_batch(&labels[i..end], &predictions[i..end], &sex[i..end])
            .unwrap();
    }
    let report = acc.finish(&config).unwrap();
    println!("1M rows, one column: {:?}", start.elapsed());
    assert_eq!(report.rows, N as u64);

    let start = Instant::now();
    let mut acc = FairnessAccumulator::new(["sex", "band"]).unwrap();
    for i in (0..N).step_by(8192) {
        let end = (i + 8192).min(N);
        acc.push_batch_multi(
            &labels[i..end],
            &predictions[i..end],
            &[&sex[i..end], &band[i..end]],
        )
        .unwrap();
    }
    let report = acc.finish(&FairnessConfig::default()).unwrap();
    println!("1M rows, two columns (32 groups): {:?}", start.elapsed());
    assert_eq!(report.by_group.len(), 32);

    let start = Instant::now();
    let mut acc = FairnessAccumulator::new(["sex"]).unwrap();
    let ids: Vec<_> = values.iter().map(|v| acc.intern(&[*v]).unwrap()).collect();
    let codes: Vec<_> = sex
        .iter()
        .map(|s| ids[values.iter().position(|v| v == s).unwrap()])
        .collect();
    let coded = Instant::now();
    acc.push_coded(&labels, &predictions, &codes).unwrap();
    acc.finish(&config).unwrap();
    println!(
        "1M rows, coded: {:?} (+ {:?} encoding in the test)",
        coded.elapsed(),
        coded - start
    );
}

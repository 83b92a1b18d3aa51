//! Benchmarks of the engine alone: scheduling and dispatching events with a realistic
//! number of them pending.
//!
//! The storm keeps about one pending event per busy handshake worker and registry writer:
//! 500 servers × (32 workers + 8 writers) = 20,000. The "hold" pattern below (dispatch one,
//! schedule one a random delay later) keeps the queue at that size, which is what the hot
//! loop does.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use stormsim::engine::EventQueue;

/// Events dispatched per measured iteration.
const EVENTS: u64 = 100_000;

fn hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_queue_hold");
    group.throughput(Throughput::Elements(EVENTS));
    for pending in [1_000u64, 20_000, 200_000] {
        group.bench_with_input(
            BenchmarkId::from_parameter(pending),
            &pending,
            |b, &pending| {
                let mut rng = ChaCha8Rng::seed_from_u64(1);
                let mut queue = EventQueue::new();
                for id in 0..pending {
                    queue.schedule(rng.random_range(0..1_000_000), id);
                }
                b.iter(|| {
                    for _ in 0..EVENTS {
                        let next = queue
                            .pop_before(u64::MAX)
                            .expect("the queue is never empty");
                        let delay = rng.random_range(0..1_000_000);
                        queue.schedule(next.time + delay, next.event);
                    }
                });
            },
        );
    }
    group.finish();
}

fn simultaneous(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_queue_same_instant");
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("schedule_then_dispatch", |b| {
        b.iter(|| {
            let mut queue = EventQueue::new();
            for id in 0..EVENTS {
                queue.schedule(42, id);
            }
            while queue.pop_before(u64::MAX).is_some() {}
        });
    });
    group.finish();
}

criterion_group!(benches, hold, simultaneous);
criterion_main!(benches);

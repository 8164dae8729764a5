//! Place a few hundred orders and read what the service tells you about them.
//!
//! ```text
//! cargo run -p ch06-observability --example orders
//! cargo run -p ch06-observability --example orders -- --all
//! ```
//!
//! 300 orders arrive 2 ms apart, so that about twenty are in flight at any
//! moment, as on a busy server. Most go through; some cards time out once and
//! are retried, some are declined, a few orders name a user or a product that
//! does not exist, and for a few the payment gateway never answers.
//! Everything runs on tokio's paused clock: it takes no real time, and every
//! duration is exactly what the simulated services waited.
//!
//! It prints the first lines of the log (all of them with `--all`), how many
//! lines there were at each level, then what Prometheus would scrape from
//! `render_prometheus` and what the dashboard would show from `snapshot`.

use std::io;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ch06_observability::deps::{DECLINED_CARD, FLAKY_CARD, UNREACHABLE_CARD};
use ch06_observability::{
    CardNumber, CartLine, Deps, OrderRequest, log_subscriber, place_order,
};
use support::rng::Rng;
use tracing_subscriber::fmt::MakeWriter;

/// The log, kept in memory so that it can be printed after the run.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

/// The i-th order of the run: a seeded mix of the cases a real shop sees.
fn nth_order(i: u64, rng: &mut Rng) -> OrderRequest {
    let roll = rng.below(100);
    let card = match roll {
        0..=7 => FLAKY_CARD,
        8..=11 => DECLINED_CARD,
        15 => UNREACHABLE_CARD,
        _ => "4242 4242 4242 4242",
    };
    let user_id = if roll == 12 || roll == 13 {
        50_000 + i // no such user
    } else {
        1 + rng.below(5_000)
    };
    let (sku, _) = ch06_observability::deps::Catalog::PRODUCTS[rng.below(5) as usize];
    let sku = if roll == 14 { "GIFT-CARD" } else { sku }; // no such product
    OrderRequest {
        request_id: format!("req-{i:04}"),
        user_id,
        card: CardNumber::new(card),
        lines: vec![CartLine {
            sku: sku.to_string(),
            quantity: 1 + rng.below(3) as u32,
        }],
    }
}

fn main() {
    let all = std::env::args().any(|a| a == "--all");
    let log = Buffer::default();
    let deps = Rc::new(Deps::new());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("build a tokio runtime");
    let mut rng = Rng::new(2024);
    let orders: Vec<OrderRequest> = (1..=300).map(|i| nth_order(i, &mut rng)).collect();

    let (placed, failed) =
        tracing::subscriber::with_default(log_subscriber(log.clone()), || {
            // A LocalSet runs the requests concurrently on this one thread, with no
            // `Send` requirement on the handler's future.
            let local = tokio::task::LocalSet::new();
            let handles: Vec<_> = orders
                .into_iter()
                .enumerate()
                .map(|(i, req)| {
                    let deps = Rc::clone(&deps);
                    local.spawn_local(async move {
                        tokio::time::sleep(Duration::from_millis(2 * i as u64)).await;
                        place_order(&deps, req).await.is_ok()
                    })
                })
                .collect();
            runtime.block_on(local.run_until(async {
                let mut placed = 0;
                for handle in handles {
                    placed += u32::from(handle.await.expect("a request panicked"));
                }
                (placed, 300 - placed)
            }))
        });

    let text = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let shown = if all { lines.len() } else { 8.min(lines.len()) };
    println!("The log, {shown} of {} lines:\n", lines.len());
    for line in &lines[..shown] {
        println!("{line}");
    }
    println!("\nLines per level:");
    for level in ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"] {
        let quoted = format!("\"level\":\"{level}\"");
        let plain = format!(" {level} ");
        let n = lines
            .iter()
            .filter(|l| l.contains(&quoted) || l.contains(&plain))
            .count();
        println!("  {level:<5} {n}");
    }
    println!("\n{placed} orders placed, {failed} failed.");
    println!("\nWhat Prometheus scrapes (render_prometheus):\n");
    print!("{}", deps.metrics.render_prometheus());
    println!("\nWhat the dashboard shows (snapshot):\n");
    println!("{:#?}", deps.metrics.snapshot());
}

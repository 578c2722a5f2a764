//! What a run measured ([`Report`], [`Summary`]) and how it is printed.

use super::LoadArgs;
use std::collections::BTreeMap;

/// The figures of one run.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub consoles: usize,
    pub crews: usize,
    pub rate_hz: f64,
    pub incidents_per_min: f64,
    pub measured_s: f64,
    pub incidents_created: usize,
    pub incidents_assigned: usize,
    /// Call sent → HTTP answer (the incident durable, the assignment decided).
    pub http_create_ms: Summary,
    pub crew_delivery_ms: Summary,
    pub console_delivery_ms: Summary,
    /// Console deliveries expected but never seen.
    pub console_missed: usize,
    pub positions_sent: u64,
    pub positions_acked: u64,
    pub positions_per_s: f64,
    pub resyncs: u64,
    pub errors: BTreeMap<String, u64>,
    pub disconnects: u64,
    pub server_rss_mb: f64,
    pub server_peak_rss_mb: f64,
    /// Each node's resident memory at the end and at its peak, MB (the first
    /// is the node that led at the start).
    pub node_rss_mb: Vec<NodeMemory>,
}

/// One node's memory.
#[derive(Debug, Default, serde::Serialize)]
pub struct NodeMemory {
    pub addr: String,
    pub rss_mb: f64,
    pub peak_mb: f64,
}

/// p50, p99 and max of a sample, in ms.
#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    pub n: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    pub(super) fn of(mut v: Vec<f64>) -> Summary {
        if v.is_empty() {
            return Summary::default();
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        Summary {
            n: v.len(),
            p50: q(0.50),
            p99: q(0.99),
            max: v[v.len() - 1],
        }
    }
}

pub(super) fn print_report(args: &LoadArgs, r: &Report) {
    if args.json {
        println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
        return;
    }
    let s = |x: &Summary| {
        format!(
            "n={} p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            x.n, x.p50, x.p99, x.max
        )
    };
    println!(
        "== measured {:.1} s: {} incidents created, {} assigned",
        r.measured_s, r.incidents_created, r.incidents_assigned
    );
    println!(
        "   call → HTTP answer (durable):           {}",
        s(&r.http_create_ms)
    );
    println!(
        "   incident → assignment on the crew:      {}",
        s(&r.crew_delivery_ms)
    );
    println!(
        "   incident → assignment on every console: {} (missed {})",
        s(&r.console_delivery_ms),
        r.console_missed
    );
    println!(
        "   positions: {} sent, {} acknowledged = {:.0}/s",
        r.positions_sent, r.positions_acked, r.positions_per_s
    );
    println!(
        "   resyncs {}, disconnects {}, errors {:?}",
        r.resyncs, r.disconnects, r.errors
    );
    println!(
        "   server memory: {:.0} MB resident at the end, {:.0} MB peak",
        r.server_rss_mb, r.server_peak_rss_mb
    );
    if r.node_rss_mb.len() > 1 {
        for n in &r.node_rss_mb {
            println!(
                "   node {}: {:.0} MB resident at the end, {:.0} MB peak",
                n.addr, n.rss_mb, n.peak_mb
            );
        }
    }
}

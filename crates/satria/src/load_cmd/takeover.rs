//! `satria load --takeovers N`: how long a region is without a leader when its
//! leader dies. Each round SIGKILLs the node that leads, then sends a call to a
//! surviving node every 20 ms until one is acknowledged (HTTP 201: durable on
//! the new leader), and times SIGKILL → that acknowledgement. The killed node is
//! started again as a follower before the next round, so the cluster keeps its
//! size. Nothing else runs meanwhile: the figure is the takeover alone.

use super::clients::{call_body, login};
use super::report::Summary;
use super::server::Spawned;
use anyhow::{Context, bail};
use satria_dispatch::LatLon;
use serde_json::Value;
use std::time::{Duration, Instant};

/// One node as the rounds see it: its process and how to start it again.
pub(super) struct Node {
    pub(super) spawned: Spawned,
    pub(super) restart: Box<dyn Fn() -> anyhow::Result<Spawned>>,
}

/// What the rounds measured.
#[derive(Debug, serde::Serialize)]
pub struct Takeovers {
    pub rounds: usize,
    /// SIGKILL of the leader → first call acknowledged by the next, ms.
    pub kill_to_ack_ms: Summary,
    /// The calls refused meanwhile (503, or no answer from a node).
    pub refused: u64,
}

/// Which node leads, by the node ids `load-K` the cluster was started with.
async fn leader(http: &reqwest::Client, nodes: &[Node]) -> Option<usize> {
    for n in nodes {
        let url = format!("http://{}/cluster/nodes", n.spawned.addr);
        let Ok(r) = http.get(url).send().await else {
            continue;
        };
        let Ok(v) = r.json::<Value>().await else {
            continue;
        };
        if let Some(k) = v["leader_id"]
            .as_str()
            .and_then(|id| id.strip_prefix("load-"))
            .and_then(|k| k.parse::<usize>().ok())
            && k < nodes.len()
        {
            return Some(k);
        }
    }
    None
}

/// Waits until some node names a leader, at most `within`.
async fn a_leader(
    http: &reqwest::Client,
    nodes: &[Node],
    within: Duration,
) -> anyhow::Result<usize> {
    let until = Instant::now() + within;
    loop {
        if let Some(k) = leader(http, nodes).await {
            return Ok(k);
        }
        if Instant::now() > until {
            bail!("no node leads the region after {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(super) async fn rounds(
    mut nodes: Vec<Node>,
    rounds: usize,
    places: &[LatLon],
) -> (Vec<Node>, anyhow::Result<Takeovers>) {
    let r = run_rounds(&mut nodes, rounds, places).await;
    (nodes, r)
}

async fn run_rounds(
    nodes: &mut [Node],
    rounds: usize,
    places: &[LatLon],
) -> anyhow::Result<Takeovers> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let mut took = Vec::with_capacity(rounds);
    let mut refused = 0u64;
    let mut n = 0usize;
    for round in 0..rounds {
        let k = a_leader(&http, nodes, Duration::from_secs(30)).await?;
        let other = (k + 1) % nodes.len();
        let base = format!("http://{}", nodes[other].spawned.addr);
        // Sessions live in the shared database: a token from any node serves.
        let token = login(&http, &base, "load-dispatcher", super::PASSWORD).await?;
        let killed = Instant::now();
        nodes[k].spawned.kill();
        let acked = loop {
            let p = places[n % places.len()];
            n += 1;
            let body = call_body(n, p, "081200000000", "hijau");
            // Every surviving node in turn: whichever leads next answers.
            let to = &nodes[(other + n) % nodes.len()];
            if (other + n) % nodes.len() == k {
                continue;
            }
            let r = http
                .post(format!("http://{}/api/incidents", to.spawned.addr))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await;
            match r {
                Ok(r) if r.status().as_u16() == 201 => break killed.elapsed(),
                _ => refused += 1,
            }
            if killed.elapsed() > Duration::from_secs(60) {
                bail!("round {round}: no call acknowledged within 60 s of the SIGKILL");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        took.push(acked.as_secs_f64() * 1e3);
        println!(
            "   round {}: node load-{k} killed, a call acknowledged {:.0} ms later",
            round + 1,
            acked.as_secs_f64() * 1e3
        );
        nodes[k].spawned = (nodes[k].restart)().context("the killed node did not start again")?;
        // Let it settle as a follower before the next round.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    Ok(Takeovers {
        rounds,
        kill_to_ack_ms: Summary::of(took),
        refused,
    })
}

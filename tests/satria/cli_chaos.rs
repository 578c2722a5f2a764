//! A cluster under failure, as an operator runs it: three `satria serve` nodes on
//! loopback share one PostgreSQL database (and Redis, when it answers).
//!
//! - **Kills.** A client sends a bounded stream of commands over WebSockets, each to
//!   a random node, resending it with the same `client_id` (to another random node)
//!   until it is acknowledged. Meanwhile the leader is SIGKILLed 20 times; each time
//!   it is started again at once, as a follower. Two consoles stay connected
//!   throughout, reconnecting to a random node with their last seq whenever theirs
//!   dies. Afterwards every acknowledged command is in the journal exactly once, at
//!   the seqs its acknowledgement named; `audit verify` passes; and each console saw
//!   every seq of the region stream once, in order.
//! - **Fencing.** The leader is frozen (SIGSTOP) past its lease with a command
//!   waiting in its socket; another node takes over and acknowledges commands; the
//!   old leader is thawed (SIGCONT). It writes nothing (its command is refused with
//!   `not_leader`, and goes through the new leader once when resent), becomes a
//!   follower, and the chain stays valid.

use crate::cli_cluster::{Node, clean_redis, login, readyz, redis_url, start_node, two_dirs};
use crate::support::{satria, stderr};
use futures_util::{SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use satria_store::pg::testing::TestDatabase;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

pub(crate) const STREAM: &str = "region:banyumas";
const KILLS: usize = 20;

/// Three data directories with the small generated map.
fn three_dirs(dir: &std::path::Path) -> [PathBuf; 3] {
    let (a, b) = two_dirs(dir);
    let c = dir.join("c");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::copy(
        a.join("banyumas-demo.osm.pbf"),
        c.join("banyumas-demo.osm.pbf"),
    )
    .unwrap();
    [a, b, c]
}

/// A create_incident command frame, its caller named after `n`.
pub(crate) fn call(n: usize) -> Value {
    json!({"type": "command", "client_id": format!("chaos-{n}"), "command": {
        "type": "create_incident", "caller_name": format!("chaos-{n}"), "caller_phone": "0813",
        "location": {"lat": -7.4246, "lon": 109.2396},
        "address": {"desa": "Sokanegara", "rt_rw": "", "landmark": "", "text": ""},
        "triage": "hijau", "category": "medical", "patients": 1, "notes": ""}})
}

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A socket to `addr` after its hello with `last_seq` (`None` if the node is gone).
pub(crate) async fn open(addr: &str, token: &str, last_seq: u64) -> Option<Ws> {
    let (mut ws, _) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws")),
    )
    .await
    .ok()?
    .ok()?;
    let hello = json!({"type": "hello", "token": token, "last_seq": last_seq});
    ws.send(Message::text(hello.to_string())).await.ok()?;
    Some(ws)
}

/// The next JSON frame, `None` when the socket ends or nothing comes for `wait`.
pub(crate) async fn frame(ws: &mut Ws, wait: Duration) -> Option<Value> {
    loop {
        let m = tokio::time::timeout(wait, ws.next()).await.ok()??.ok()?;
        if m.is_close() {
            return None;
        }
        if let Ok(t) = m.to_text()
            && let Ok(v) = serde_json::from_str::<Value>(t)
        {
            return Some(v);
        }
    }
}

/// Sends `frame` through a random node until it is acknowledged; the seqs of
/// its events on the region stream.
pub(crate) async fn until_acknowledged(
    addrs: &Mutex<Vec<String>>,
    token: &str,
    cmd: &Value,
    rng: &mut ChaCha8Rng,
) -> Vec<u64> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = String::from("no node answered");
    loop {
        assert!(
            Instant::now() < deadline,
            "never acknowledged: {cmd}; the last answer: {last}"
        );
        let addr = {
            let a = addrs.lock().unwrap();
            a[rng.gen_range(0..a.len())].clone()
        };
        if let Some(mut ws) = open(&addr, token, u64::MAX).await
            && ws.send(Message::text(cmd.to_string())).await.is_ok()
        {
            last = format!("{addr} said nothing for 10 s");
            while let Some(f) = frame(&mut ws, Duration::from_secs(10)).await {
                if f["client_id"] != cmd["client_id"] {
                    continue;
                }
                if f["type"] == "ack" {
                    return f["events"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|e| e["stream"] == STREAM)
                        .map(|e| e["seq"].as_u64().unwrap())
                        .collect();
                }
                // Refused (no leader yet, the leader out of reach, a journal
                // write whose outcome is unknown): send it again; the client id
                // makes a second application impossible.
                assert!(
                    ["not_leader", "unavailable", "busy"]
                        .contains(&f["code"].as_str().unwrap_or("")),
                    "{f}"
                );
                last = format!("{addr}: {f}");
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A console: connected to a random node from seq 0 on, reconnecting to a
/// random node with its last seq whenever the socket ends; every region seq it
/// was sent, in the order it came, until `stop` and it has seen `until()`.
async fn console(
    addrs: Arc<Mutex<Vec<String>>>,
    token: String,
    stop: Arc<AtomicBool>,
    seed: u64,
) -> Vec<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut seen: Vec<u64> = Vec::new();
    let mut snapshots = 0;
    while !stop.load(Ordering::SeqCst) {
        let addr = {
            let a = addrs.lock().unwrap();
            a[rng.gen_range(0..a.len())].clone()
        };
        let last = seen.last().copied().unwrap_or(0);
        let Some(mut ws) = open(&addr, &token, last).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        while let Some(f) = frame(&mut ws, Duration::from_millis(500)).await {
            match f["type"].as_str() {
                Some("event") if f["stream"] == STREAM => seen.push(f["seq"].as_u64().unwrap()),
                Some("snapshot") => snapshots += 1,
                _ => {}
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
        }
    }
    assert_eq!(snapshots, 0, "a console got a snapshot instead of a replay");
    seen
}

/// The node that leads now, if one does (by `/readyz`).
async fn leader(http: &reqwest::Client, nodes: &[Node]) -> Option<(usize, u64)> {
    for (i, n) in nodes.iter().enumerate() {
        if let Ok(r) = tokio::time::timeout(
            Duration::from_secs(2),
            http.get(format!("http://{}/readyz", n.addr)).send(),
        )
        .await
            && let Ok(r) = r
            && let Ok(v) = r.json::<Value>().await
            && v["role"] == "leader"
        {
            return Some((i, v["term"].as_u64().unwrap_or(0)));
        }
    }
    None
}

/// Waits for a leader in a term after `after`.
async fn next_leader(http: &reqwest::Client, nodes: &[Node], after: u64) -> (usize, u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((i, term)) = leader(http, nodes).await
            && term > after
        {
            return (i, term);
        }
        assert!(Instant::now() < deadline, "no leader after term {after}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every journaled `incident_created`, by caller name: the seqs it is at.
pub(crate) fn created(db: &TestDatabase) -> BTreeMap<String, Vec<u64>> {
    let mut by_caller: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in db
        .client()
        .query(
            "SELECT seq, payload FROM entries WHERE stream = $1 AND kind = 'incident_created' ORDER BY seq",
            &[&STREAM],
        )
        .unwrap()
    {
        let payload: Value = serde_json::from_str(r.get::<_, &str>(1)).unwrap();
        let name = payload["incident"]["caller_name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        by_caller
            .entry(name)
            .or_default()
            .push(r.get::<_, i64>(0) as u64);
    }
    by_caller
}

pub(crate) fn audit_verify(url: &str) {
    let o = satria(&["audit", "verify", "--database", url]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn three_nodes_lose_their_leader_twenty_times_and_lose_nothing() {
    let Some(db) = TestDatabase::create("cli_chaos") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dirs = three_dirs(dir.path());
    let redis = redis_url();
    let names = ["node-a", "node-b", "node-c"];
    let start = |i: usize| start_node(&dirs[i], &db.url, names[i], redis.as_deref(), &[]);
    let mut nodes: Vec<Node> = (0..3).map(start).collect();
    let password = nodes[0].passwords["dispatcher"].clone();
    let addrs = Arc::new(Mutex::new(
        nodes.iter().map(|n| n.addr.clone()).collect::<Vec<_>>(),
    ));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let token = rt.block_on(login(&http, &nodes[1], "dispatcher", &password));

    let stop = Arc::new(AtomicBool::new(false));
    let consoles: Vec<_> = (0..2)
        .map(|k| {
            rt.spawn(console(
                Arc::clone(&addrs),
                token.clone(),
                Arc::clone(&stop),
                7 + k,
            ))
        })
        .collect();
    // The call-taker: commands until the kills are over, each acknowledged.
    let calls_done = Arc::new(AtomicBool::new(false));
    let caller = {
        let (addrs, token, done) = (Arc::clone(&addrs), token.clone(), Arc::clone(&calls_done));
        rt.spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(119);
            let mut acked = Vec::new();
            let mut n = 0;
            while !done.load(Ordering::SeqCst) || n < 40 {
                let seqs = until_acknowledged(&addrs, &token, &call(n), &mut rng).await;
                acked.push((format!("chaos-{n}"), seqs));
                n += 1;
            }
            acked
        })
    };

    let mut rng = ChaCha8Rng::seed_from_u64(20);
    let mut term = rt.block_on(next_leader(&http, &nodes, 0)).1;
    for kill in 0..KILLS {
        std::thread::sleep(Duration::from_millis(rng.gen_range(200..700)));
        let (i, t) = rt.block_on(next_leader(&http, &nodes, term - 1));
        // SIGKILL: no goodbye, the lease left to expire.
        let dead = std::mem::replace(&mut nodes[i], start(i));
        drop(dead);
        addrs.lock().unwrap()[i] = nodes[i].addr.clone();
        term = rt.block_on(next_leader(&http, &nodes, t)).1;
        println!("kill {kill}: {} led term {t}; term {term} now", names[i]);
    }
    calls_done.store(true, Ordering::SeqCst);
    let acked = rt.block_on(caller).unwrap();
    // The consoles catch up with the journal, then stop.
    let head = rt.block_on(async {
        let (i, _) = next_leader(&http, &nodes, 0).await;
        readyz(&http, &nodes[i]).await["last_seq"].as_u64().unwrap()
    });
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::SeqCst);
    let seen: Vec<Vec<u64>> = consoles
        .into_iter()
        .map(|c| rt.block_on(c).unwrap())
        .collect();
    drop(nodes);
    if let Some(r) = &redis {
        clean_redis(r, &db.url);
    }
    println!(
        "{KILLS} leader kills, final term {term}: {} commands acknowledged, journal head {head}",
        acked.len()
    );

    // Every acknowledged command exactly once, where its acknowledgement said.
    let journaled = created(&db);
    for (name, seqs) in &acked {
        let at = journaled.get(name).cloned().unwrap_or_default();
        assert_eq!(at.len(), 1, "{name} journaled {} times", at.len());
        assert_eq!(seqs.first(), at.first(), "{name}: acknowledged at {seqs:?}");
    }
    assert_eq!(
        journaled.keys().filter(|k| k.starts_with("chaos-")).count(),
        acked.len(),
        "nothing journaled that was not acknowledged"
    );
    audit_verify(&db.url);
    // Each console saw every seq once, in order, through every reconnect, at
    // least up to the head when the calls ended.
    for (k, s) in seen.iter().enumerate() {
        let expected: Vec<u64> = (1..=s.len() as u64).collect();
        assert!(
            *s == expected,
            "console {k}: not every seq once in order: {s:?}"
        );
        assert!(
            s.len() as u64 >= head,
            "console {k}: {} events for a head of {head}",
            s.len()
        );
    }
}

#[test]
fn a_frozen_leader_thawed_after_a_takeover_writes_nothing() {
    let Some(db) = TestDatabase::create("cli_fencing") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (da, dbb) = two_dirs(dir.path());
    let a = start_node(&da, &db.url, "node-a", None, &[]);
    let b = start_node(&dbb, &db.url, "node-b", None, &[]);
    let signal = |sig: &str, n: &Node| {
        let s = std::process::Command::new("kill")
            .args([sig, &n.child.id().to_string()])
            .status()
            .unwrap();
        assert!(s.success());
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (token, fenced, seqs) = rt.block_on(async {
        assert_eq!(readyz(&http, &a).await["role"], "leader");
        let token = login(&http, &a, "dispatcher", a.passwords["dispatcher"].as_str()).await;
        let addrs = Mutex::new(vec![a.addr.clone()]);
        until_acknowledged(&addrs, &token, &call(0), &mut rng).await;

        // A console on the leader, then the leader frozen with a command
        // waiting in its socket.
        let mut ws = open(&a.addr, &token, u64::MAX).await.unwrap();
        while let Some(f) = frame(&mut ws, Duration::from_secs(2)).await {
            if f["type"] == "snapshot" {
                break;
            }
        }
        signal("-STOP", &a);
        ws.send(Message::text(call(1).to_string())).await.unwrap();
        let frozen = Instant::now();
        let addrs_b = Mutex::new(vec![b.addr.clone()]);
        let seqs = until_acknowledged(&addrs_b, &token, &call(2), &mut rng).await;
        println!(
            "node-b leads and acknowledged a command {} ms after node-a froze",
            frozen.elapsed().as_millis()
        );
        let r = readyz(&http, &b).await;
        assert_eq!(
            (r["role"].as_str(), r["term"].as_u64()),
            (Some("leader"), Some(2)),
            "{r}"
        );

        // Thawed, the old leader still believes it leads until its next
        // renewal or append: the command that waited is refused, not written.
        signal("-CONT", &a);
        let answer = loop {
            let f = frame(&mut ws, Duration::from_secs(10))
                .await
                .expect("the thawed node answers the command that waited");
            if f["client_id"] == "chaos-1" {
                break f;
            }
        };
        // Either the thawed node still took itself for the leader: its
        // append is fenced (the lease's term checked in the same transaction)
        // and the command refused; or it had stepped down first and passed the
        // command to node-b.
        let fenced = answer["type"] == "error";
        if fenced {
            assert_eq!(answer["code"], "not_leader", "{answer}");
        } else {
            assert_eq!(answer["type"], "ack", "{answer}");
        }
        println!("the command that waited in the frozen leader: {answer}");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = readyz(&http, &a).await;
            // It steps down first, and learns the new leader on its next
            // look at the lease.
            if r["role"] == "follower" && r["leader_id"] == "node-b" {
                assert_eq!(r["term"], 2, "{r}");
                break;
            }
            assert_ne!(r["role"], "leader", "node-a leads again: {r}");
            assert!(
                Instant::now() < deadline,
                "node-a never followed node-b: {r}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (token, fenced, seqs)
    });
    let journaled = created(&db);
    assert_eq!(
        journaled.contains_key("chaos-1"),
        !fenced,
        "a fenced command wrote nothing, a forwarded one was written"
    );
    assert_eq!(journaled["chaos-2"], seqs);
    // Sent again, through either node, it is applied once.
    let both = Mutex::new(vec![a.addr.clone(), b.addr.clone()]);
    rt.block_on(async {
        until_acknowledged(&both, &token, &call(1), &mut rng).await;
        until_acknowledged(&both, &token, &call(1), &mut rng).await;
    });
    assert_eq!(created(&db)["chaos-1"].len(), 1);
    drop((a, b));
    audit_verify(&db.url);
}

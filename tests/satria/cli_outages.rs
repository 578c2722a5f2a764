//! A cluster's services going away under it, as an operator would see it: two
//! `satria serve` nodes, a console on the follower, incidents sent to the
//! leader.
//!
//! - **Redis restarts** mid-stream (a Redis of the test's own, on a free
//!   loopback port, so no other test loses its Redis): commands are still
//!   acknowledged, `/readyz` says the fan-out fell back to the journal, and the
//!   console on the follower sees every seq once, in order.
//! - **PostgreSQL goes away** (the test's database refuses connections and its
//!   sessions are ended, as a restart does): commands are refused and nothing
//!   is half-written; reads go on from memory, under tokens trusted from
//!   memory, except reads of personal data, whose access cannot be recorded;
//!   service resumes by itself when the database is back, with every
//!   acknowledged command journaled once.

use crate::cli_chaos::{STREAM, audit_verify, call, created, frame, open, until_acknowledged};
use crate::cli_cluster::{login, readyz, start_node, two_dirs};
use futures_util::SinkExt;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use satria_store::pg::testing::{TestDatabase, admin_url, services_required};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// A Redis server of the test's own, on a free loopback port, without
/// persistence: stopped, it comes back empty, as a restarted cache does.
struct PrivateRedis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateRedis {
    /// `None` (after `skipped: ...`) without `redis-server`, unless CI
    /// requires the services.
    fn start() -> Option<PrivateRedis> {
        let found = Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            assert!(
                !services_required(),
                "redis-server is required (SATRIA_REQUIRE_SERVICES=1)"
            );
            println!("skipped: redis-server is not installed");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut r = PrivateRedis {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        r.run();
        Some(r)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server and waits until it answers.
    fn run(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (its data goes with it).
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `/readyz` of `n` until `ok` says yes (within 20 s).
async fn ready_until(
    http: &reqwest::Client,
    n: &crate::cli_cluster::Node,
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = readyz(http, n).await;
        if ok(&r) {
            return r;
        }
        assert!(Instant::now() < deadline, "{what}: {r}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A console on `addr` from seq 0: every region seq it is sent, in order,
/// until `stop`. It must never need to reconnect.
async fn console(addr: String, token: String, stop: Arc<AtomicBool>) -> Vec<u64> {
    let mut ws = open(&addr, &token, 0).await.expect("the console connects");
    let mut seen = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match frame(&mut ws, Duration::from_millis(300)).await {
            Some(f) if f["type"] == "event" && f["stream"] == STREAM => {
                seen.push(f["seq"].as_u64().unwrap());
            }
            Some(f) => assert_ne!(f["type"], "snapshot", "a resync: {f}"),
            None => {}
        }
    }
    seen
}

#[test]
fn a_redis_restart_mid_stream_costs_no_console_an_event() {
    let Some(db) = TestDatabase::create("cli_redis_restart") else {
        return;
    };
    let Some(mut redis) = PrivateRedis::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (da, dbb) = two_dirs(dir.path());
    let url = redis.url();
    let a = start_node(&da, &db.url, "node-a", Some(&url), &[]);
    let b = start_node(&dbb, &db.url, "node-b", Some(&url), &[]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let (token, watching) = rt.block_on(async {
        assert_eq!(readyz(&http, &a).await["role"], "leader");
        let token = login(&http, &a, "dispatcher", a.passwords["dispatcher"].as_str()).await;
        let watching = tokio::spawn(console(b.addr.clone(), token.clone(), Arc::clone(&stop)));
        (token, watching)
    });
    let leader = Mutex::new(vec![a.addr.clone()]);
    let mut rng = ChaCha8Rng::seed_from_u64(6379);
    let mut n = 0;
    let mut send = |count: usize, rng: &mut ChaCha8Rng| {
        for _ in 0..count {
            rt.block_on(until_acknowledged(&leader, &token, &call(n), rng));
            n += 1;
        }
    };
    send(10, &mut rng);
    rt.block_on(async {
        let r = ready_until(&http, &b, "the follower hears node-a through Redis", |r| {
            r["redis"] == "up"
        })
        .await;
        assert_eq!(
            (r["backend"].as_str(), r["fanout"].as_str()),
            (Some("postgresql"), Some("redis")),
            "{r}"
        );
    });

    // Redis dies: commands are still acknowledged, and both nodes say the
    // fan-out reads the journal.
    redis.kill();
    send(10, &mut rng);
    rt.block_on(async {
        for n in [&a, &b] {
            let r = ready_until(&http, n, "Redis is seen down", |r| r["redis"] == "down").await;
            assert_eq!(r["fanout"], "journal", "{r}");
            let m = http
                .get(format!("http://{}/metrics", n.addr))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(m.contains("satria_redis_up{node="), "{m}");
            assert!(
                m.lines()
                    .any(|l| l.starts_with("satria_redis_up") && l.ends_with(" 0")),
                "{m}"
            );
        }
    });

    // Redis is back, empty: the fan-out goes through it again.
    redis.run();
    send(10, &mut rng);
    rt.block_on(async {
        ready_until(&http, &b, "the follower reads Redis again", |r| {
            r["redis"] == "up"
        })
        .await;
    });
    send(5, &mut rng);
    let head = rt.block_on(async { readyz(&http, &a).await["last_seq"].as_u64().unwrap() });
    rt.block_on(async {
        ready_until(&http, &b, "the follower caught up", |r| {
            r["last_seq"] == head
        })
        .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    });
    stop.store(true, Ordering::SeqCst);
    let seen = rt.block_on(watching).unwrap();
    let expected: Vec<u64> = (1..=head).collect();
    assert_eq!(
        seen, expected,
        "every seq once, in order, through the restart"
    );
    assert_eq!(created(&db).len(), 35);
    drop((a, b));
    audit_verify(&db.url);
}

/// Sets whether the test database admits connections, and when it stops,
/// ends every session it has, as a PostgreSQL restart does (through the
/// admin database: the test's own refuses connections then).
fn admit(db: &TestDatabase, yes: bool) {
    let mut c = satria_store::pg::connect(&admin_url()).unwrap();
    c.batch_execute(&format!(
        "ALTER DATABASE \"{}\" ALLOW_CONNECTIONS {yes}",
        db.name()
    ))
    .unwrap();
    if !yes {
        c.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            &[&db.name()],
        )
        .unwrap();
    }
}

#[test]
fn a_database_outage_refuses_commands_then_service_resumes_losing_nothing() {
    let Some(db) = TestDatabase::create("cli_pg_outage") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (da, dbb) = two_dirs(dir.path());
    let a = start_node(&da, &db.url, "node-a", None, &[]);
    let b = start_node(&dbb, &db.url, "node-b", None, &[]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let both = Mutex::new(vec![a.addr.clone(), b.addr.clone()]);
    let mut rng = ChaCha8Rng::seed_from_u64(5432);
    let token = rt.block_on(async {
        assert_eq!(readyz(&http, &a).await["role"], "leader");
        let token = login(&http, &a, "dispatcher", a.passwords["dispatcher"].as_str()).await;
        for k in 0..5 {
            until_acknowledged(&both, &token, &call(k), &mut rng).await;
        }
        let head = readyz(&http, &a).await["last_seq"].clone();
        ready_until(&http, &b, "the follower caught up", |r| {
            r["last_seq"] == head
        })
        .await;
        token
    });
    let mut console = rt.block_on(open(&b.addr, &token, 0)).unwrap();

    // The database goes away: no new connection, every session ended.
    admit(&db, false);
    let refused = rt.block_on(async {
        // A command is refused, by either node, and says why.
        let mut ws = open(&a.addr, &token, u64::MAX).await.unwrap();
        ws.send(Message::text(call(100).to_string())).await.unwrap();
        loop {
            let f = frame(&mut ws, Duration::from_secs(15))
                .await
                .expect("the command is answered while the database is away");
            if f["client_id"] == "chaos-100" {
                break f;
            }
        }
    });
    assert_eq!(refused["type"], "error", "{refused}");
    assert!(
        ["unavailable", "not_leader", "busy"].contains(&refused["code"].as_str().unwrap_or("")),
        "{refused}"
    );
    rt.block_on(async {
        for n in [&a, &b] {
            let r = http
                .get(format!("http://{}/readyz", n.addr))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["journal_readable"], false, "{body}");
            assert_eq!(status, 503, "{body}");
        }
        // A dispatcher's read on the follower is answered from its memory
        // (the token too is trusted from memory)...
        let get = |path: &str| {
            http.get(format!("http://{}{path}", b.addr))
                .bearer_auth(&token)
                .send()
        };
        let r = get("/api/units").await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let units: Value = r.json().await.unwrap();
        assert!(units.as_array().is_some_and(|u| !u.is_empty()), "{units}");
        // ...but personal data is not: its reading cannot be recorded, and
        // an unrecorded read is not served (UU PDP).
        let r = get("/api/incidents").await.unwrap();
        assert_eq!(r.status().as_u16(), 503);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "access_log_unavailable", "{body}");
        // The console that was open stays open and has its five incidents.
        let mut seqs = Vec::new();
        while let Some(f) = frame(&mut console, Duration::from_millis(500)).await {
            if f["type"] == "event" && f["stream"] == STREAM {
                seqs.push(f["seq"].as_u64().unwrap());
            }
        }
        assert!(!seqs.is_empty(), "the console was sent the incidents");
    });

    // The database is back: a node leads again by itself, and the refused
    // command, sent again, is applied once.
    admit(&db, true);
    rt.block_on(async {
        until_acknowledged(&both, &token, &call(100), &mut rng).await;
        until_acknowledged(&both, &token, &call(100), &mut rng).await;
        for k in 5..10 {
            until_acknowledged(&both, &token, &call(k), &mut rng).await;
        }
    });
    let journaled = created(&db);
    assert_eq!(journaled.len(), 11, "{journaled:?}");
    assert!(journaled.values().all(|s| s.len() == 1), "{journaled:?}");
    drop((a, b));
    audit_verify(&db.url);
}

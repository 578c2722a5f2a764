//! `satria serve` nodes on one PostgreSQL database, as an operator runs
//! them: one leads, the other follows and forwards commands to it (503 with
//! `Retry-After` while the leader cannot be reached); both share the accounts;
//! the leader is killed (SIGKILL, no goodbye) and the follower takes the
//! region over after the lease's TTL, continuing the journal; two regions are
//! led by two nodes on one journal.

use crate::support::{satria, stderr};
use satria_store::pg::testing::TestDatabase;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `satria serve` node; killed when dropped.
pub(crate) struct Node {
    pub(crate) child: Child,
    pub(crate) addr: String,
    /// The demo dispatcher's password, printed by the first node of a new
    /// cluster only (the others share its accounts).
    password: Option<String>,
    /// Every demo account's password, by username (the same rule).
    pub(crate) passwords: std::collections::HashMap<String, String>,
    _lines: Receiver<String>,
}

impl Node {
    /// SIGTERM, as a service manager stops it; the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        let term = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the node did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A node still starting: killed if the test fails before it is a [`Node`].
struct Starting(Option<Child>);

impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The Redis key prefix of the cluster on the test database `db_url`: one per
/// test (tests run at once in one process, and two clusters sharing keys
/// would hear each other's events).
pub(crate) fn redis_prefix(db_url: &str) -> String {
    let db = db_url.rsplit('/').next().unwrap_or_default();
    format!("satria-test:cli:{db}:")
}

/// Deletes the Redis keys of the cluster on `db_url`.
pub(crate) fn clean_redis(url: &str, db_url: &str) {
    if let Ok(mut c) = redis::Client::open(url).and_then(|c| c.get_connection()) {
        for k in ["events", "positions", "last-positions"] {
            let _ = redis::cmd("DEL")
                .arg(format!("{}region:banyumas:{k}", redis_prefix(db_url)))
                .query::<i64>(&mut c);
        }
    }
}

/// Redis's URL when it answers (the nodes then fan out through it).
pub(crate) fn redis_url() -> Option<String> {
    let url =
        std::env::var("SATRIA_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string());
    let addr = url
        .trim_start_matches("redis://")
        .split('/')
        .next()?
        .to_string();
    std::net::TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(1))
        .ok()
        .map(|_| url)
}

/// Drains a node's log (stderr) on a thread of its own, so the node never
/// blocks on a full pipe: appended to `$SATRIA_TEST_NODE_LOGS/NODE.log` when
/// that names a directory (to read after a failure); the last lines kept for
/// the message of a node that would not start.
fn drain_log(node: &str, err: std::process::ChildStderr) -> Arc<Mutex<VecDeque<String>>> {
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let mut file = std::env::var_os("SATRIA_TEST_NODE_LOGS").map(|dir| {
        let path = std::path::Path::new(&dir).join(format!("{node}.log"));
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
    });
    let keep = Arc::clone(&tail);
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            if let Some(f) = file.as_mut() {
                let _ = writeln!(f, "{l}");
            }
            let mut t = keep.lock().unwrap();
            if t.len() == 20 {
                t.pop_front();
            }
            t.push_back(l);
        }
    });
    tail
}

pub(crate) fn start_node(
    data: &std::path::Path,
    url: &str,
    node: &str,
    redis: Option<&str>,
    extra: &[&str],
) -> Node {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_satria"));
    cmd.args(["serve", "--data-dir", data.to_str().unwrap()])
        .args(extra)
        .args([
            "--addr",
            "127.0.0.1:0",
            "--database",
            url,
            "--node-id",
            node,
        ])
        .args(["--lease-ttl-ms", "1500", "--lease-renew-ms", "300"]);
    if let Some(r) = redis {
        cmd.args(["--redis", r, "--redis-prefix", &redis_prefix(url)]);
    }
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Killed if this function fails before the node is handed over.
    let mut guard = Starting(Some(child));
    let child = guard.0.as_mut().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let log = drain_log(node, child.stderr.take().unwrap());
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    let addr = loop {
        assert!(
            Instant::now() < deadline,
            "{node} did not start: {seen:?}; its log ends: {:?}",
            log.lock().unwrap()
        );
        let l = match lines.recv_timeout(Duration::from_millis(200)) {
            Ok(l) => l,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().unwrap();
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "{node} exited ({status}) before serving: {seen:?}; its log ends: {:?}",
                    log.lock().unwrap()
                );
            }
        };
        seen.push(l.clone());
        if let Some(i) = l.find("serving http://") {
            break l[i + 15..].split('/').next().unwrap().to_string();
        }
    };
    let passwords: std::collections::HashMap<String, String> = seen
        .iter()
        .filter(|l| l.contains("  role "))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect();
    let password = passwords.get("dispatcher").cloned();
    assert!(
        seen.iter()
            .any(|l| l.contains(&format!("cluster node {node}"))),
        "{seen:?}"
    );
    assert!(
        seen.iter().all(|l| !l.contains("secret")),
        "the URL's password is never printed: {seen:?}"
    );
    Node {
        child: guard.0.take().unwrap(),
        addr,
        password,
        passwords,
        _lines: lines,
    }
}

/// A node's `/metrics`, each sample by its name (labels dropped).
pub(crate) async fn metric_values(
    http: &reqwest::Client,
    n: &Node,
) -> std::collections::BTreeMap<String, f64> {
    let text = http
        .get(format!("http://{}/metrics", n.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            let name = name.split('{').next()?;
            Some((name.to_string(), value.parse().ok()?))
        })
        .collect()
}

pub(crate) async fn readyz(http: &reqwest::Client, n: &Node) -> Value {
    http.get(format!("http://{}/readyz", n.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub(crate) async fn login(http: &reqwest::Client, n: &Node, user: &str, password: &str) -> String {
    let r = http
        .post(format!("http://{}/api/auth/login", n.addr))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Sends one command frame over a fresh socket to `n` (after its hello) and
/// returns the answer frame with the command's client id.
async fn ws_command(n: &Node, token: &str, frame: &Value) -> Value {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", n.addr))
        .await
        .unwrap();
    let hello = json!({"type": "hello", "token": token, "last_seq": 0});
    ws.send(Message::text(hello.to_string())).await.unwrap();
    ws.send(Message::text(frame.to_string())).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no answer to {frame}");
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let Ok(text) = m.to_text() else { continue };
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        if (v["type"] == "ack" || v["type"] == "error") && v["client_id"] == frame["client_id"] {
            return v;
        }
    }
}

/// What a console needs to fail over: both nodes list both addresses, the
/// leader marked; a page from one node may call the other (CORS preflight and
/// `connect-src`), and no other origin may.
async fn clients_are_given_every_node(http: &reqwest::Client, a: &Node, b: &Node) {
    let (oa, ob) = (format!("http://{}", a.addr), format!("http://{}", b.addr));
    // Each node announces itself, and reads the others, on its tick: wait
    // until each lists both.
    let listed = [listing(http, &oa, 2).await, listing(http, &ob, 2).await];
    assert_eq!(
        listed[1]["nodes"],
        json!([
            {"node_id": "node-a", "addr": oa, "leader": true, "self": false},
            {"node_id": "node-b", "addr": ob, "leader": false, "self": true},
        ]),
        "{}",
        listed[1]
    );
    assert_eq!(listed[0]["nodes"][0]["self"], true, "{}", listed[0]);
    let preflight = |from: String| {
        http.request(reqwest::Method::OPTIONS, format!("{oa}/api/incidents"))
            .header("origin", from)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let r = preflight(ob.clone()).await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], ob.as_str());
    assert!(
        r.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let r = preflight("http://evil.example".into()).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "origin_not_allowed", "{body}");
    // The crew app loaded from node A may open a socket on node B.
    let r = http.get(format!("{oa}/crew.html")).send().await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    for o in [&oa, &ob] {
        let ws = o.replacen("http://", "ws://", 1);
        assert!(csp.contains(&format!(" {o} {ws}")), "{csp}");
    }
    assert!(csp.contains("connect-src 'self' http://"), "{csp}");
}

/// `GET /cluster/nodes` on `origin`, once it lists `n` nodes.
pub(crate) async fn listing(http: &reqwest::Client, origin: &str, n: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v: Value = http
            .get(format!("{origin}/cluster/nodes"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["nodes"].as_array().is_some_and(|l| l.len() == n) {
            return v;
        }
        assert!(Instant::now() < deadline, "{n} nodes are never listed: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// POST /api/incidents; the status, `Retry-After` and the body.
async fn create(http: &reqwest::Client, n: &Node, token: &str) -> (u16, Option<String>, Value) {
    let r = http
        .post(format!("http://{}/api/incidents", n.addr))
        .bearer_auth(token)
        .json(&json!({
            "caller_name": "Siti", "caller_phone": "081390001119",
            "lat": -7.4246, "lon": 109.2396,
            "address": {"desa": "Sokanegara"},
            "triage": "kuning", "category": "medical", "patients": 1, "notes": "sesak napas"
        }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry, r.json().await.unwrap())
}

#[test]
fn the_follower_forwards_commands_and_takes_over_when_the_leader_is_killed() {
    let Some(db) = TestDatabase::create("cli_cluster") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (da, dbb) = two_dirs(dir.path());
    // A password in the URL (trust auth ignores it) must never show.
    let url = db.url.replacen("postgres@", "postgres:secret@", 1);

    let redis = redis_url();
    let a = start_node(&da, &url, "node-a", redis.as_deref(), &[]);
    let b = start_node(&dbb, &url, "node-b", redis.as_deref(), &[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let ra = readyz(&http, &a).await;
        let rb = readyz(&http, &b).await;
        assert_eq!(
            (ra["role"].as_str(), ra["term"].as_u64()),
            (Some("leader"), Some(1)),
            "{ra}"
        );
        assert_eq!(rb["role"], "follower", "{rb}");
        assert_eq!(rb["leader_id"], "node-a", "{rb}");

        // One set of accounts: the demo passwords were printed once, by the
        // first node, and a login on either node is a session on both.
        assert!(b.password.is_none(), "the second node made no accounts");
        let password = a
            .password
            .clone()
            .expect("the first node printed the demo accounts");
        let tb = login(&http, &b, "dispatcher", &password).await;
        let ta = login(&http, &a, "dispatcher", &password).await;
        assert_eq!(rb["leader_addr"], format!("http://{}", a.addr), "{rb}");
        clients_are_given_every_node(&http, &a, &b).await;

        // A command sent to the follower is decided by the leader, once.
        let (status, _, inc) = create(&http, &b, &tb).await;
        assert_eq!(status, 201, "forwarded to the leader: {inc}");
        assert_eq!(inc["id"], 1);
        let (status, _, inc) = create(&http, &a, &ta).await;
        assert_eq!(status, 201, "{inc}");
        assert_eq!(inc["id"], 2);
        // A command over the follower's socket is decided by the leader too,
        // and a retry with the same client id is answered, not applied, again.
        let frame = json!({"type": "command", "client_id": "w-1", "command": {
            "type": "create_incident", "caller_name": "Budi", "caller_phone": "0813",
            "location": {"lat": -7.4246, "lon": 109.2396},
            "address": {"desa": "Sokanegara", "rt_rw": "", "landmark": "", "text": ""},
            "triage": "hijau", "category": "medical", "patients": 1, "notes": ""}});
        let first = ws_command(&b, &tb, &frame).await;
        assert_eq!(first["type"], "ack", "{first}");
        assert_eq!(first["client_id"], "w-1");
        let again = ws_command(&b, &tb, &frame).await;
        assert_eq!(again["duplicate"], true, "{again}");
        assert_eq!(again["events"], first["events"]);
        // Pattas lives in the cluster's database: a beneficiary registered
        // through one node is read through the other, and the one-per-NIK rule
        // holds across them.
        let officer = &a.passwords["pattas"];
        let (pb, pa) = (
            login(&http, &b, "pattas", officer).await,
            login(&http, &a, "pattas", officer).await,
        );
        let person = json!({
            "nik": "3302015403560099", "name": "Sukarti (uji klaster)", "date_of_birth": "1956-03-14",
            "sex": "P", "desa": "Kedungwuluh", "kecamatan": "Purwokerto Barat", "rt": "3", "rw": "02",
            "phone": "0812-3456-7890", "dtks": true, "bpjs": "pbi", "conditions": ["hipertensi"],
            "family_contact": {"name": "Slamet", "phone": "+6281398765432", "relation": "anak"}
        });
        let post = |n: &Node, token: &str| {
            http.post(format!("http://{}/api/pattas/beneficiaries", n.addr))
                .bearer_auth(token)
                .json(&person)
                .send()
        };
        let r = post(&b, &pb).await.unwrap();
        assert_eq!(r.status(), 201);
        let made: Value = r.json().await.unwrap();
        let r = http
            .get(format!("http://{}/api/pattas/beneficiaries/{}", a.addr, made["id"]))
            .bearer_auth(&pa)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let read: Value = r.json().await.unwrap();
        assert_eq!(read["name"], "Sukarti (uji klaster)", "{read}");
        let r = post(&a, &pa).await.unwrap();
        assert_eq!(r.status(), 409, "the same NIK through the other node");

        // The follower tails what the leader journaled.
        let seq = readyz(&http, &a).await["last_seq"].as_u64().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while readyz(&http, &b).await["last_seq"].as_u64() != Some(seq) {
            assert!(Instant::now() < deadline, "the follower did not catch up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let rb = readyz(&http, &b).await;
        assert_eq!(
            (rb["lag"].as_u64(), rb["journal_readable"].as_bool()),
            (Some(0), Some(true)),
            "{rb}"
        );

        // The leader dies without a word; the follower leads after the TTL.
        drop(a);
        let killed = Instant::now();
        // Before the lease runs out the follower still names the dead leader:
        // a command gets 503 with Retry-After, and nothing is done.
        let (status, retry, body) = create(&http, &b, &tb).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["code"], "not_leader", "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("node-a") && message.contains("cannot be reached"),
            "{body}"
        );
        assert!(retry.is_some_and(|s| s.parse::<u64>().is_ok()));
        loop {
            let r = readyz(&http, &b).await;
            if r["role"] == "leader" {
                assert_eq!(r["term"], 2, "{r}");
                println!(
                    "node-b leads {} ms after node-a was killed",
                    killed.elapsed().as_millis()
                );
                break;
            }
            assert!(
                killed.elapsed() < Duration::from_secs(15),
                "no takeover: {r}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The session opened on the dead node still works on the new leader.
        let (status, _, inc) = create(&http, &b, &ta).await;
        assert_eq!(status, 201, "{inc}");
        assert_eq!(
            inc["id"], 4,
            "the journal continues where the old leader stopped"
        );
        // What node-b did is in its metrics: it forwarded four commands (one
        // HTTP and two socket ones answered, the one to the dead leader not),
        // took the lease once, renews it, and is not behind.
        let m = metric_values(&http, &b).await;
        assert_eq!(m["satria_cluster_forwarded_total"], 4.0, "{m:?}");
        assert_eq!(m["satria_cluster_forward_failed_total"], 1.0, "{m:?}");
        assert_eq!(m["satria_cluster_takeovers_total"], 1.0, "{m:?}");
        assert_eq!(m["satria_cluster_term"], 2.0, "{m:?}");
        assert_eq!(m["satria_cluster_lag_events"], 0.0, "{m:?}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while metric_values(&http, &b).await["satria_cluster_lease_renew_seconds_count"] < 1.0 {
            assert!(Instant::now() < deadline, "node-b never renewed its lease");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // An account added to the cluster's database logs in on its node.
    let o = satria(&[
        "user",
        "add",
        "--database",
        &url,
        "--username",
        "dispatcher2",
        "--password",
        "kata-sandi-baru",
        "--role",
        "dispatcher",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = satria(&["user", "list", "--database", &url]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("dispatcher2"));
    assert!(!stderr(&o).contains("secret"));
    let o = satria(&[
        "user",
        "add",
        "--database",
        &url,
        "--username",
        "crew9",
        "--password",
        "kata-sandi-baru",
        "--role",
        "crew",
        "--unit",
        "NOPE-1",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("not in the fleet of the journal"),
        "{}",
        stderr(&o)
    );
    rt.block_on(async {
        let http = reqwest::Client::new();
        login(&http, &b, "dispatcher2", "kata-sandi-baru").await;
    });
    drop(b);
    if let Some(r) = &redis {
        clean_redis(r, &url);
    }
    let o = satria(&["audit", "verify", "--database", &url]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The browser harness of the server's tests (node, chromium, playwright).
#[path = "../server/support/browser.rs"]
#[allow(dead_code)]
mod harness;
/// The harness's login helper signs in with this; these tests log in with the
/// printed demo passwords instead.
const PASSWORD: &str = "";

/// The crew app in a real browser, loaded from node A, while node A is killed:
/// it reconnects to node B by itself, and an assignment made through node B
/// (once it leads) reaches the crew, who acknowledges it through node B.
#[test]
fn the_crew_app_moves_to_the_surviving_node_when_its_node_dies() {
    if !harness::ready() {
        return;
    }
    let Some(db) = TestDatabase::create("cli_cluster_browser") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (da, dbb) = two_dirs(dir.path());
    let redis = redis_url();
    let a = start_node(&da, &db.url, "node-a", redis.as_deref(), &[]);
    let b = start_node(&dbb, &db.url, "node-b", redis.as_deref(), &[]);
    let cred = |user: &str| format!("{user}:{}", a.passwords[user]);
    // The page's connect-src names the nodes node A knows when it serves it.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(listing(
            &reqwest::Client::new(),
            &format!("http://{}", a.addr),
            2,
        ));
    let run = harness::run_node(
        "failover.mjs",
        &[
            ("SATRIA_URL_A", format!("http://{}", a.addr)),
            ("SATRIA_URL_B", format!("http://{}", b.addr)),
            ("SATRIA_CREW", cred("crew")),
            ("SATRIA_DISPATCHER", cred("dispatcher")),
            ("SATRIA_KILL_PID", a.child.id().to_string()),
        ],
    );
    drop((a, b));
    if let Some(r) = &redis {
        clean_redis(r, &db.url);
    }
    assert!(
        run.status.is_some_and(|s| s.success()) && run.out.contains("browser failover passed"),
        "the browser failover flow failed:\n{}",
        run.out
    );
}

/// Two data directories, each with the small generated map.
pub(crate) fn two_dirs(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (da, db) = (dir.join("a"), dir.join("b"));
    for d in [&da, &db] {
        std::fs::create_dir_all(d).unwrap();
    }
    let pbf = da.join("banyumas-demo.osm.pbf");
    let o = satria(&["mapgen", "--scale", "0.03", "-o", pbf.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::copy(&pbf, db.join("banyumas-demo.osm.pbf")).unwrap();
    (da, db)
}

#[test]
fn two_regions_on_one_journal_are_led_by_two_nodes() {
    let Some(db) = TestDatabase::create("cli_two_regions") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (da, dc) = two_dirs(dir.path());
    let fleet = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/dispatch/fleet-latihan.csv"
    );
    let a = start_node(&da, &db.url, "node-a", None, &[]);
    let c = start_node(
        &dc,
        &db.url,
        "node-c",
        None,
        &["--region", "banyumas-latihan", "--fleet", fleet],
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        // Each leads its own region, in the first term of its own lease.
        for n in [&a, &c] {
            let r = readyz(&http, n).await;
            assert_eq!(
                (r["role"].as_str(), r["term"].as_u64()),
                (Some("leader"), Some(1)),
                "{r}"
            );
        }
        // One cluster, one set of accounts (whichever node started first made them).
        let password = a
            .password
            .clone()
            .or(c.password.clone())
            .expect("demo accounts");
        let ta = login(&http, &a, "dispatcher", &password).await;
        let tc = login(&http, &c, "dispatcher", &password).await;
        let (sa, _, ia) = create(&http, &a, &ta).await;
        let (sc, _, ic) = create(&http, &c, &tc).await;
        assert_eq!((sa, sc), (201, 201), "{ia} {ic}");
        // Separate regions: each has its own first incident and its own fleet.
        assert_eq!((ia["id"].as_u64(), ic["id"].as_u64()), (Some(1), Some(1)));
    });
    let mut client = db.client();
    let per_stream: Vec<(String, i64)> = client
        .query(
            "SELECT stream, count(*) FROM entries WHERE kind = 'unit_registered' GROUP BY stream ORDER BY stream",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        per_stream,
        [
            ("region:banyumas".to_string(), 21),
            ("region:banyumas-latihan".to_string(), 4)
        ]
    );
    let leases: Vec<(String, String)> = client
        .query("SELECT region, holder FROM leases ORDER BY region", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        leases,
        [
            ("region:banyumas".to_string(), "node-a".to_string()),
            ("region:banyumas-latihan".to_string(), "node-c".to_string())
        ]
    );
    // A node stopped as a service manager stops it ends cleanly (its
    // database connections closed off the async runtime) and lets its lease go.
    let status = c.stop();
    assert!(status.success(), "{status}");
    let free: i64 = client
        .query_one(
            "SELECT (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::int8
             FROM leases WHERE region = 'region:banyumas-latihan'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(free < 0, "the lease was released: expires in {free} ms");
    drop(a);
    // Both regions' rows interleave in one hash chain, which verifies.
    let o = satria(&["audit", "verify", "--database", &db.url]);
    assert!(o.status.success(), "{}", stderr(&o));
}

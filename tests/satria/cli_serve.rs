//! `satria serve` for a newcomer and an operator: a port already taken is said at
//! once, before any account is created or map generated; SIGTERM with consoles
//! connected says goodbye to each and stops the engine cleanly.

use crate::support::{satria, stderr, stdout};

#[test]
fn serve_on_a_taken_port_says_so_at_once_and_creates_no_account() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("satria-data");
    // Another program holds the port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let o = satria(&[
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--addr",
        &addr,
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(err.contains("--addr"), "the way out is named: {err}");
    let out = stdout(&o);
    assert!(!out.contains("demo accounts"), "no password printed: {out}");
    assert!(!out.contains("generating"), "no map generated first: {out}");
    assert!(
        !data.join("auth.sqlite").exists(),
        "no account created before the port is ours"
    );
}

/// Reads `child`'s stdout lines until one contains `what`; returns every line
/// read. Fails the test after 120 s.
fn read_until(lines: &std::sync::mpsc::Receiver<String>, what: &str) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut seen = Vec::new();
    while std::time::Instant::now() < deadline {
        match lines.recv_timeout(std::time::Duration::from_millis(200)) {
            Ok(l) => {
                let found = l.contains(what);
                seen.push(l);
                if found {
                    return seen;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => break,
        }
    }
    panic!("no line with {what:?}: {seen:?}");
}

/// POST /api/auth/login over a plain socket; the token.
fn login(addr: &str, user: &str, password: &str) -> String {
    use std::io::{Read, Write};
    let body = format!("{{\"username\":\"{user}\",\"password\":\"{password}\"}}");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let json = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    let v: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {answer}"));
    v["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_string()
}

/// SIGTERM with hundreds of consoles connected: every socket gets its goodbye,
/// and the engine is stopped with its queued commands flushed ("== stopped" is
/// printed once its threads have ended; issue 17: it used to end with
/// "connections still hold the engine", the engine left running).
#[test]
fn sigterm_with_many_consoles_connected_stops_the_engine_cleanly() {
    use futures_util::{SinkExt, StreamExt};
    const CONSOLES: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("satria-data");
    std::fs::create_dir_all(&data).unwrap();
    // A small generated map keeps the first start short; the server is the same.
    let o = satria(&[
        "mapgen",
        "--scale",
        "0.03",
        "-o",
        data.join("banyumas-demo.osm.pbf").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_satria"))
        .args([
            "serve",
            "--data-dir",
            data.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(err), &mut s);
        s
    });
    let started = read_until(&lines, "serving http://");
    let password = started
        .iter()
        .skip_while(|l| !l.contains("== demo accounts"))
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("dispatcher")).then(|| w.next().unwrap().to_string())
        })
        .unwrap_or_else(|| panic!("{started:?}"));
    let serving = started.last().unwrap();
    let addr = serving[serving.find("http://").unwrap() + 7..]
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let token = login(&addr, "dispatcher", &password);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let goodbyes = rt.block_on(async {
        let mut sockets = Vec::new();
        for _ in 0..CONSOLES {
            let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
                .await
                .unwrap();
            let hello = serde_json::json!({"type": "hello", "token": token, "last_seq": 0});
            ws.send(tokio_tungstenite::tungstenite::Message::text(
                hello.to_string(),
            ))
            .await
            .unwrap();
            sockets.push(ws);
        }
        // Each console is past its welcome before the signal.
        for ws in &mut sockets {
            loop {
                let m = ws.next().await.unwrap().unwrap();
                if m.to_text().unwrap_or("").contains("\"welcome\"") {
                    break;
                }
            }
        }
        let kill = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        // Every console hears why it is closed.
        let mut goodbyes = 0;
        for mut ws in sockets {
            while let Some(Ok(m)) = ws.next().await {
                if m.to_text().unwrap_or("").contains("\"server_shutdown\"") {
                    goodbyes += 1;
                    break;
                }
            }
        }
        goodbyes
    });
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let rest: Vec<String> = lines.try_iter().collect();
    let err = err_reader.join().unwrap();
    assert_eq!(goodbyes, CONSOLES, "{rest:?}");
    assert!(status.success(), "{status}: {err}");
    assert!(rest.iter().any(|l| l == "== stopped"), "{rest:?} {err}");
}

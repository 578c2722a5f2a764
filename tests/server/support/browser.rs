//! What both browser test modules share (`browser.rs`, `browser_modules.rs`):
//! the prerequisites check with its skip rule, running one playwright script
//! under node with a guard against a hung browser, and signing in over HTTP.

use super::PASSWORD;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn chromium() -> PathBuf {
    std::env::var_os("SATRIA_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// What is missing to run a browser flow, if anything.
fn missing() -> Option<String> {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.is_ok_and(|s| s.success()) {
        return Some("node is not installed".into());
    }
    if !chromium().exists() {
        return Some(format!(
            "{} is missing (apt-get install chromium chromium-driver)",
            chromium().display()
        ));
    }
    if !root()
        .join("tests/browser/node_modules/playwright-core")
        .exists()
    {
        return Some(
            "tests/browser/node_modules is missing (npm ci --prefix tests/browser)".into(),
        );
    }
    None
}

/// True when the browser test can run. When it cannot, it is skipped with a
/// message, unless `SATRIA_BROWSER_TESTS=1` (as in CI): then it fails.
pub fn ready() -> bool {
    let Some(why) = missing() else {
        return true;
    };
    if std::env::var("SATRIA_BROWSER_TESTS").as_deref() == Ok("1") {
        panic!("SATRIA_BROWSER_TESTS=1 but the browser test cannot run: {why}");
    }
    println!("skipped: {why}; set SATRIA_BROWSER_TESTS=1 to require it");
    false
}

/// How a script ended: its exit status (`None` if it hung for 5 minutes and
/// was killed) and everything it printed.
pub struct NodeRun {
    pub status: Option<ExitStatus>,
    pub out: String,
}

/// Runs `tests/browser/SCRIPT` under node with `env` (plus the chromium path
/// and the artifacts folder, `target/browser-artifacts/`), echoing its output.
pub fn run_node(script: &str, env: &[(&str, String)]) -> NodeRun {
    let artifacts = root().join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let mut child = Command::new("node")
        .arg(root().join("tests/browser").join(script))
        .current_dir(root().join("tests/browser"))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("SATRIA_CHROMIUM", chromium())
        .env("SATRIA_ARTIFACTS", &artifacts)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out_t = drain(Box::new(child.stdout.take().unwrap()));
    let err_t = drain(Box::new(child.stderr.take().unwrap()));
    // A guard against a hung browser, not a timing assertion.
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if started.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = out_t.join().unwrap_or_default();
    let err = err_t.join().unwrap_or_default();
    println!("{out}");
    eprintln!("{err}");
    NodeRun { status, out }
}

/// Signs `user` in (with [`PASSWORD`]) and returns the session token.
pub async fn token(http: &reqwest::Client, base: &str, user: &str) -> String {
    let v: serde_json::Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["token"].as_str().unwrap().to_string()
}

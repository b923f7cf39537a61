//! Helpers for the end-to-end tests: build and locate the real `oxminer` and `oxwallet`
//! binaries, start nodes as separate processes on free loopback ports with temp data dirs, and
//! talk to them over plain HTTP.

pub mod bench;
pub mod chaingen;
pub mod procfs;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Returns the path of a workspace binary (`"oxminer"` or `"oxwallet"`), building both first
/// (once per test process) with the same profile as the running test.
///
/// # Panics
/// If the binaries cannot be built: no test can run without them.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let dir = profile_dir();
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args(["build", "--quiet", "-p", "oxminer", "-p", "oxwallet"]);
        if dir.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("cargo runs");
        assert!(status.success(), "building the binaries failed");
        dir
    });
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// The target profile folder of the running test executable (`target/debug/deps/…` → `target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let deps = exe.parent().expect("the test executable is in a folder");
    let dir = if deps.file_name().is_some_and(|n| n == "deps") { deps.parent().unwrap_or(deps) } else { deps };
    dir.to_path_buf()
}

/// A free TCP port on 127.0.0.1 (bound and released; the OS does not hand it out again at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// An HTTP response: status and body parsed as JSON (`Value::Null` when it is not JSON).
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Body as JSON.
    pub json: Value,
    /// Raw body.
    pub body: String,
}

impl Response {
    /// The `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

/// Sends one HTTP/1.1 request with `Connection: close` and reads the whole answer.
///
/// # Errors
/// The I/O error, or an answer that is not HTTP.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.unwrap_or("");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response");
    let (head, rest) = text.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(rest) } else { rest.to_owned() };
    Ok(Response { status, json: serde_json::from_str(&body).unwrap_or(Value::Null), body })
}

/// The body of a `Transfer-Encoding: chunked` answer, from the text after its head.
pub fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// A keep-alive HTTP/1.1 connection from a chosen loopback source address (127.0.0.2, …), for
/// per-address limits and latency probes.
pub struct KeepAlive {
    reader: std::io::BufReader<TcpStream>,
}

/// One answer on a [`KeepAlive`] connection.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
    /// Raw body.
    pub body: String,
}

impl KeepAlive {
    /// Connects from `from` (port chosen by the system) to `to`.
    ///
    /// # Errors
    /// The socket cannot be bound or connected.
    pub fn connect(from: std::net::IpAddr, to: SocketAddr) -> std::io::Result<Self> {
        use socket2::{Domain, SockAddr, Socket, Type};
        let socket = Socket::new(Domain::for_address(to), Type::STREAM, None)?;
        socket.bind(&SockAddr::from(SocketAddr::new(from, 0)))?;
        socket.connect_timeout(&SockAddr::from(to), Duration::from_secs(5))?;
        let stream: TcpStream = socket.into();
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.set_nodelay(true)?;
        Ok(Self { reader: std::io::BufReader::new(stream) })
    }

    /// Sends `GET path` and reads the answer (its body by `Content-Length`).
    ///
    /// # Errors
    /// The I/O error, or an answer that is not HTTP.
    pub fn get(&mut self, path: &str) -> std::io::Result<Answer> {
        use std::io::BufRead;
        let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response");
        self.reader.get_mut().write_all(format!("GET {path} HTTP/1.1\r\nHost: node\r\n\r\n").as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let (mut length, mut retry_after) = (0usize, None);
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(bad());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').ok_or_else(bad)?;
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().map_err(|_| bad())?,
                "retry-after" => retry_after = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let mut body = vec![0u8; length];
        self.reader.read_exact(&mut body)?;
        Ok(Answer { status, retry_after, body: String::from_utf8_lossy(&body).into_owned() })
    }
}

/// A node running as a separate process.
pub struct NodeProcess {
    child: Option<Child>,
    /// Its API address.
    pub addr: SocketAddr,
    /// Its `--data-dir`.
    pub data_dir: PathBuf,
    /// Network name.
    pub network: String,
    args: Vec<String>,
    log: PathBuf,
    /// How often [`wait_ready`](Self::wait_ready) asks.
    poll: Duration,
}

impl NodeProcess {
    /// Starts `oxminer run --network <network> --data-dir <data_dir> --listen 127.0.0.1:<free>`
    /// plus `extra` arguments, and waits until `/api/v1/status` answers.
    pub fn start(network: &str, data_dir: &Path, extra: &[&str]) -> Self {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let mut args = vec![
            "run".to_owned(),
            "--network".to_owned(),
            network.to_owned(),
            "--data-dir".to_owned(),
            data_dir.display().to_string(),
            "--listen".to_owned(),
            addr.to_string(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let log = data_dir.join(format!("node-{}.log", addr.port()));
        let mut node = Self {
            child: None,
            addr,
            data_dir: data_dir.to_owned(),
            network: network.to_owned(),
            args,
            log,
            poll: Duration::from_millis(50),
        };
        node.spawn();
        node
    }

    fn spawn(&mut self) {
        std::fs::create_dir_all(&self.data_dir).expect("data dir");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("log file");
        let child = Command::new(binary("oxminer"))
            .args(&self.args)
            .env("RUST_LOG", "info")
            .env_remove("OXMINER_NETWORK")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("oxminer starts");
        self.child = Some(child);
        self.wait_ready();
    }

    /// Waits until the API answers (60 s at most), failing with the node's log otherwise.
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = http(self.addr, "GET", "/api/v1/status", None, &[])
                && r.status == 200
            {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("oxminer exited with {status}:\n{}", self.log());
            }
            std::thread::sleep(self.poll);
        }
        panic!("oxminer did not answer within 60 s:\n{}", self.log());
    }

    /// The node's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The network's data folder.
    pub fn network_dir(&self) -> PathBuf {
        self.data_dir.join(&self.network)
    }

    /// The admin token.
    pub fn cookie(&self) -> String {
        std::fs::read_to_string(self.network_dir().join(".cookie")).expect("cookie file")
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Response {
        http(self.addr, "GET", path, None, &[]).expect("request")
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Response {
        http(self.addr, "POST", path, Some(&body.to_string()), &[]).expect("request")
    }

    /// `POST path` with a JSON body and the admin token.
    pub fn post_admin(&self, path: &str, body: &Value) -> Response {
        let auth = format!("Bearer {}", self.cookie());
        http(self.addr, "POST", path, Some(&body.to_string()), &[("Authorization", &auth)]).expect("request")
    }

    /// Mines `count` blocks to `address` through the dev route; returns their hashes.
    pub fn generate(&self, count: usize, address: &str) -> Vec<String> {
        let r = self.post_admin("/api/v1/dev/generate", &serde_json::json!({"count": count, "address": address}));
        assert_eq!(r.status, 200, "{}", r.body);
        r.json["hashes"].as_array().expect("hashes").iter().map(|h| h.as_str().unwrap_or_default().to_owned()).collect()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Sends SIGKILL and reaps the process.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `signal` (e.g. "TERM", "INT") and waits up to `limit` for the exit; returns the
    /// status and how long it took.
    pub fn stop_with(&mut self, signal: &str, limit: Duration) -> (ExitStatus, Duration) {
        let mut child = self.child.take().expect("running");
        let started = Instant::now();
        Command::new("kill").args([format!("-{signal}"), child.id().to_string()]).status().expect("kill runs");
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return (status, started.elapsed());
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                panic!("oxminer did not stop within {limit:?} of SIG{signal}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the node again with the same arguments and data.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "stop the node first");
        self.spawn();
    }

    /// Starts the node again like [`restart`](Self::restart); returns the time from the spawn
    /// to the first answer of `/api/v1/status`, polled every 2 ms (for restart benchmarks).
    pub fn restart_timed(&mut self) -> Duration {
        assert!(self.child.is_none(), "stop the node first");
        let poll = std::mem::replace(&mut self.poll, Duration::from_millis(2));
        let started = Instant::now();
        self.spawn();
        self.poll = poll;
        started.elapsed()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

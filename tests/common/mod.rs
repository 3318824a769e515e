//! Test support: a real S3-compatible server (moto) on a free port of 127.0.0.1, started per
//! test and killed on drop, a fault-injecting TCP proxy in front of it, and a tiny HTTP client
//! for what flint does not do itself (creating buckets, IAM users, listing uploads).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use flint::{SessionConfig, SessionContext};

/// The install command printed when the server is missing.
pub const INSTALL: &str = "python3 -m venv .s3-venv && .s3-venv/bin/pip install 'moto[server]==5.2.5'   (bash .ci/run does this)";

fn moto_binary() -> PathBuf {
    if let Ok(p) = std::env::var("FLINT_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".s3-venv/bin/moto_server")
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A moto server process.
pub struct MotoServer {
    child: Option<Child>,
    /// Its port.
    pub port: u16,
}

impl MotoServer {
    /// Starts a server and waits until it answers. Fails (never skips) when moto is missing.
    pub fn start() -> MotoServer {
        let bin = moto_binary();
        assert!(
            bin.exists(),
            "the S3 test server is not installed ({} is missing); install it with:\n  {INSTALL}",
            bin.display()
        );
        let port = free_port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}\n  {INSTALL}", bin.display()));
        let server = MotoServer {
            child: Some(child),
            port,
        };
        let start = Instant::now();
        loop {
            if http(port, "GET", "/", &[], b"").is_ok() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a bucket (object_store never does).
    pub fn create_bucket(&self, name: &str) {
        let (status, body) =
            http(self.port, "PUT", &format!("/{name}"), &[], b"").expect("PUT bucket");
        assert!(status < 300, "creating bucket {name}: {status} {body}");
    }

    /// Object keys under `prefix` in `bucket`, read straight from the server.
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let (status, body) = http(
            self.port,
            "GET",
            &format!("/{bucket}?list-type=2&prefix={prefix}"),
            &[],
            b"",
        )
        .expect("list objects");
        assert!(status < 300, "listing {bucket}: {status} {body}");
        xml_values(&body, "Key")
    }

    /// Multipart uploads in progress in `bucket`.
    pub fn uploads(&self, bucket: &str) -> Vec<String> {
        let (status, body) =
            http(self.port, "GET", &format!("/{bucket}?uploads"), &[], b"").expect("list uploads");
        assert!(status < 300, "listing uploads of {bucket}: {status} {body}");
        xml_values(&body, "Key")
    }

    /// Puts raw bytes as an object.
    pub fn put(&self, bucket: &str, key: &str, data: &[u8]) {
        let (status, body) =
            http(self.port, "PUT", &format!("/{bucket}/{key}"), &[], data).expect("PUT object");
        assert!(status < 300, "PUT {key}: {status} {body}");
    }

    /// Creates an IAM user with full S3 access and turns on moto's signature checking: from now
    /// on requests must be signed with the returned key pair.
    pub fn enable_iam(&self) -> (String, String) {
        let iam = |body: &str| {
            let auth = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/iam/aws4_request, \
                        SignedHeaders=host, Signature=0";
            let (status, text) = http(
                self.port,
                "POST",
                "/",
                &[
                    ("Authorization", auth),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ],
                body.as_bytes(),
            )
            .expect("IAM request");
            assert!(status < 300, "IAM {body}: {status} {text}");
            text
        };
        iam("Action=CreateUser&UserName=flint&Version=2010-05-08");
        let keys = iam("Action=CreateAccessKey&UserName=flint&Version=2010-05-08");
        let policy = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D";
        iam(&format!(
            "Action=PutUserPolicy&UserName=flint&PolicyName=all&PolicyDocument={policy}&Version=2010-05-08"
        ));
        let id = xml_values(&keys, "AccessKeyId").remove(0);
        let secret = xml_values(&keys, "SecretAccessKey").remove(0);
        let (status, body) =
            http(self.port, "POST", "/moto-api/reset-auth", &[], b"0").expect("reset-auth");
        assert!(status < 300, "enabling auth: {status} {body}");
        (id, secret)
    }

    /// Kills the server now.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A session configured for the server at `port` (through a proxy or not), with few retries
/// so failures surface in seconds.
pub fn s3_session(port: u16, key: &str, secret: &str) -> SessionContext {
    let ctx = SessionContext::with_config(SessionConfig::default().with_target_partitions(2));
    ctx.execute_sql(&format!(
        "SET s3.endpoint = 'http://127.0.0.1:{port}';
         SET s3.allow_http = true;
         SET s3.region = 'us-east-1';
         SET s3.access_key_id = '{key}';
         SET s3.secret_access_key = '{secret}';
         SET s3.max_retries = 1;
         SET s3.retry_timeout = 3;"
    ))
    .expect("S3 settings");
    ctx
}

/// Values of `<tag>...</tag>` elements in an XML text.
pub fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = vec![];
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(after[..j].to_string());
        rest = &after[j + close.len()..];
    }
    out
}

/// One HTTP/1.1 request to 127.0.0.1:port; returns status and body.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let text = String::from_utf8_lossy(&resp).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// A TCP proxy that can cut connections: per connection after some bytes sent to the server
/// (a large upload dies mid-way while small requests pass), or all at once (the server is gone).
pub struct FaultProxy {
    /// The port clients connect to.
    pub port: u16,
    cut_after: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
    forwarded: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// A proxy to 127.0.0.1:`target`.
    pub fn start(target: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy port");
        let port = listener.local_addr().expect("proxy addr").port();
        let proxy = FaultProxy {
            port,
            cut_after: Arc::new(AtomicU64::new(u64::MAX)),
            down: Arc::new(AtomicBool::new(false)),
            forwarded: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (cut, down, fwd, stop) = (
            proxy.cut_after.clone(),
            proxy.down.clone(),
            proxy.forwarded.clone(),
            proxy.stop.clone(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                if down.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let (c2, s2) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                let (cut, down, fwd) = (cut.clone(), down.clone(), fwd.clone());
                // client -> server, counting and cutting
                std::thread::spawn(move || {
                    let (mut from, mut to) = (client, server);
                    let mut sent = 0u64;
                    let mut buf = [0u8; 64 * 1024];
                    loop {
                        let n = match from.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        sent += n as u64;
                        fwd.fetch_add(n as u64, Ordering::SeqCst);
                        if sent > cut.load(Ordering::SeqCst) || down.load(Ordering::SeqCst) {
                            break;
                        }
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = from.shutdown(Shutdown::Both);
                    let _ = to.shutdown(Shutdown::Both);
                });
                // server -> client
                std::thread::spawn(move || {
                    let (mut from, mut to) = (s2, c2);
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = from.shutdown(Shutdown::Both);
                    let _ = to.shutdown(Shutdown::Both);
                });
            }
        });
        proxy
    }

    /// Cuts any connection after it carried `bytes` towards the server.
    pub fn cut_connections_after(&self, bytes: u64) {
        self.cut_after.store(bytes, Ordering::SeqCst);
    }

    /// The server becomes unreachable (`true`) or reachable again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Bytes sent towards the server so far.
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // wake the accept loop
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A fresh temporary folder, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `flint-test-<name>-<pid>-<n>` in the system temp folder.
    pub fn new(name: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "flint-test-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    /// A path inside, as a string.
    pub fn path(&self, rel: &str) -> String {
        self.0.join(rel).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A named counter summed over the Parquet scans of an executed plan.
pub fn scan_counter(plan: &Arc<dyn flint::exec::ExecutionPlan>, name: &str) -> usize {
    let mut total = 0;
    if plan.name() == "ParquetScanExec"
        && let Some(m) = plan.metrics()
    {
        total += m
            .extra()
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .sum::<usize>();
    }
    for c in plan.children() {
        total += scan_counter(c, name);
    }
    total
}

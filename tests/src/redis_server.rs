//! Private Redis deployments for one test: a `redis-server` on a free loopback
//! port, or a 3-master Redis Cluster, always with persistence off and stopped by
//! their process handles when dropped; plus a small binary-safe RESP client to
//! inspect and corrupt what the backend stored.
//!
//! Every address is `127.0.0.1`. Every wait is bounded by [`DEADLINE`]. Processes
//! are signalled only through the handles of the children this module spawned.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::DEADLINE;

// ---------------------------------------------------------------------------
// RESP
// ---------------------------------------------------------------------------

/// One RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resp {
    /// `+OK`
    Simple(String),
    /// `-ERR …`, `-NOPERM …`, `-MOVED …`
    Error(String),
    /// `:42`
    Int(i64),
    /// `$n` followed by `n` bytes.
    Bulk(Vec<u8>),
    /// `*n` followed by `n` replies.
    Array(Vec<Resp>),
    /// `$-1` or `*-1`.
    Nil,
}

impl Resp {
    /// The integer of an integer reply (`PTTL`, `DBSIZE`, `EXISTS`…); panics otherwise.
    pub fn int(&self) -> i64 {
        match self {
            Self::Int(n) => *n,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }

    /// The bytes of a bulk reply, `None` for nil; panics on anything else.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Bulk(bytes) => Some(bytes),
            Self::Nil => None,
            other => panic!("expected a bulk reply, got {other:?}"),
        }
    }

    /// The text of a simple, bulk or error reply (lossy UTF-8); panics otherwise.
    pub fn text(&self) -> String {
        match self {
            Self::Simple(text) | Self::Error(text) => text.clone(),
            Self::Bulk(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            other => panic!("expected a text reply, got {other:?}"),
        }
    }

    /// The elements of an array reply, as text; panics otherwise.
    pub fn strings(&self) -> Vec<String> {
        match self {
            Self::Array(items) => items.iter().map(Self::text).collect(),
            other => panic!("expected an array reply, got {other:?}"),
        }
    }

    /// The message of an error reply.
    pub fn error(&self) -> Option<&str> {
        match self {
            Self::Error(message) => Some(message),
            _ => None,
        }
    }

    /// Whether this is `+OK`.
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Simple(text) if text == "OK")
    }

    /// Panics unless this is `+OK`.
    #[track_caller]
    pub fn expect_ok(&self) {
        assert!(self.is_ok(), "expected +OK, got {self}");
    }
}

impl std::fmt::Display for Resp {
    /// Text for failure messages: bulk strings as lossy UTF-8, arrays in brackets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Simple(text) => write!(f, "+{text}"),
            Self::Error(text) => write!(f, "-{text}"),
            Self::Int(n) => write!(f, ":{n}"),
            Self::Bulk(bytes) => write!(f, "{:?}", String::from_utf8_lossy(bytes)),
            Self::Nil => f.write_str("(nil)"),
            Self::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// `args` as a RESP array of bulk strings (binary-safe).
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads one RESP2 reply.
///
/// # Errors
///
/// An I/O error, or `InvalidData` for bytes that are not RESP2.
pub fn read_reply(reader: &mut impl BufRead) -> io::Result<Resp> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    if !line.ends_with(b"\r\n") {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed inside a reply",
        ));
    }
    line.truncate(line.len() - 2);
    let Some((&kind, rest)) = line.split_first() else {
        return Err(invalid("empty reply line".into()));
    };
    let text = String::from_utf8_lossy(rest).into_owned();
    let number = || {
        text.parse::<i64>()
            .map_err(|_| invalid(format!("bad length or integer {text:?}")))
    };
    Ok(match kind {
        b'+' => Resp::Simple(text),
        b'-' => Resp::Error(text),
        b':' => Resp::Int(number()?),
        b'$' => match usize::try_from(number()?) {
            Err(_) => Resp::Nil,
            Ok(len) => {
                let mut bytes = vec![0; len + 2];
                reader.read_exact(&mut bytes)?;
                bytes.truncate(len);
                Resp::Bulk(bytes)
            }
        },
        b'*' => match usize::try_from(number()?) {
            Err(_) => Resp::Nil,
            Ok(len) => {
                let mut items = Vec::with_capacity(len.min(1 << 16));
                for _ in 0..len {
                    items.push(read_reply(reader)?);
                }
                Resp::Array(items)
            }
        },
        other => return Err(invalid(format!("unknown reply type {:?}", other as char))),
    })
}

/// One client connection to a test server (read and write bounded by [`DEADLINE`]).
pub struct RespConn {
    reader: BufReader<TcpStream>,
}

impl RespConn {
    /// Connects to `127.0.0.1:port`, then `AUTH user password` when `auth` is given.
    ///
    /// # Errors
    ///
    /// The connection or the `AUTH` failed.
    pub fn connect(port: u16, auth: Option<(&str, &str)>) -> io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(DEADLINE))?;
        stream.set_write_timeout(Some(DEADLINE))?;
        let mut conn = Self {
            reader: BufReader::new(stream),
        };
        if let Some((user, password)) = auth {
            let reply = conn.call(&["AUTH", user, password])?;
            if !reply.is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!("AUTH as {user} failed: {reply:?}"),
                ));
            }
        }
        Ok(conn)
    }

    /// Sends one command and reads its reply (an error reply is `Ok(Resp::Error)`).
    ///
    /// # Errors
    ///
    /// An I/O error.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Resp> {
        self.reader.get_mut().write_all(&encode_command(args))?;
        read_reply(&mut self.reader)
    }
}

/// `(user, password)` a helper connection authenticates with.
type Auth = Mutex<Option<(String, String)>>;

fn auth_of(auth: &Auth) -> Option<(String, String)> {
    auth.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

fn exec_on<A: AsRef<[u8]>>(port: u16, auth: &Auth, args: &[A]) -> io::Result<Resp> {
    let auth = auth_of(auth);
    let auth = auth.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
    RespConn::connect(port, auth)?.call(args)
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

/// Whether `redis-server` (and, for a cluster, `redis-cli`) is installed. When it
/// is not: with `CI` set this panics (a green run must mean the Redis suite ran);
/// otherwise it says the test is skipped and returns `false`.
pub fn redis_available(need_cli: bool) -> bool {
    let runs = |program: &str| {
        Command::new(program)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    let installed = runs("redis-server") && (!need_cli || runs("redis-cli"));
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but redis-server/redis-cli is not installed (apt-get install redis-server)"
        );
        eprintln!("SKIPPED: redis-server/redis-cli is not installed");
    }
    installed
}

/// How a started server shows it is ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Readiness {
    /// Answers `PING` with `PONG` (or with an auth error: it is up).
    Ping,
    /// Accepts TCP connections (a TLS-only port).
    Listening,
}

/// One `redis-server` child process, restartable with the same arguments.
struct Process {
    port: u16,
    args: Vec<String>,
    child: Option<Child>,
    readiness: Readiness,
}

impl Process {
    fn spawn(port: u16, args: Vec<String>, readiness: Readiness) -> Self {
        let mut process = Self {
            port,
            args,
            child: None,
            readiness,
        };
        process.start();
        process
    }

    fn start(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let child = Command::new("redis-server")
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let start = Instant::now();
        loop {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                if self.readiness == Readiness::Listening {
                    return;
                }
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                let mut reply = [0u8; 16];
                if stream.write_all(b"PING\r\n").is_ok()
                    && stream.read(&mut reply).is_ok_and(|n| {
                        reply[..n].starts_with(b"+PONG") || reply[..n].starts_with(b"-NOAUTH")
                    })
                {
                    return;
                }
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "redis-server {:?} exited with {status} before it was ready",
                    self.args
                );
            }
            assert!(start.elapsed() < DEADLINE, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is running").id()
    }

    /// SIGKILL by handle, and reap.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends `signal` (`"STOP"`, `"CONT"`) to this child by its pid. The child is
    /// not reaped while we hold its handle, so the pid is still ours. Nothing is
    /// sent when the server is not running (killed since).
    fn signal(&self, signal: &str) {
        let Some(child) = &self.child else { return };
        let pid = child.id().to_string();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), "--", &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The arguments of a plain, persistence-less server on `port`.
fn base_args(port: u16) -> Vec<String> {
    [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

// ---------------------------------------------------------------------------
// One server
// ---------------------------------------------------------------------------

/// A running `redis-server` started by this test.
pub struct RedisServer {
    process: Process,
    auth: Auth,
}

impl RedisServer {
    /// Starts a server, or returns `None` (after saying so) when `redis-server` is
    /// not installed. With `CI` set, a missing server fails the test instead.
    pub fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// [`start`](Self::start) with extra `redis-server` arguments (after the
    /// defaults, so they win), e.g. `["--requirepass", "pw"]`.
    pub fn start_with(extra: &[&str]) -> Option<Self> {
        redis_available(false).then(|| Self::start_on_with(free_port(), extra))
    }

    /// Starts a server on `port` (for a restart on the same port).
    pub fn start_on(port: u16) -> Self {
        Self::start_on_with(port, &[])
    }

    /// Starts a server on `port` with extra arguments.
    pub fn start_on_with(port: u16, extra: &[&str]) -> Self {
        let mut args = base_args(port);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        Self {
            process: Process::spawn(port, args, Readiness::Ping),
            auth: Mutex::new(None),
        }
    }

    /// A TLS-only server: `--port 0 --tls-port <port>` plus `extra` (certificate
    /// files and so on). Ready once the TLS port accepts connections. `None` when
    /// `redis-server` is not installed (a failure with `CI` set).
    pub fn start_tls(extra: &[&str]) -> Option<Self> {
        if !redis_available(false) {
            return None;
        }
        let port = free_port();
        // The plain port is closed (0); the TLS port is the free one.
        let mut args = base_args(0);
        args.extend(["--tls-port".to_owned(), port.to_string()]);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        Some(Self {
            process: Process::spawn(port, args, Readiness::Listening),
            auth: Mutex::new(None),
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.process.port
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port())
    }

    /// Sends one inline command and returns the raw reply (first read only).
    pub fn command(&self, command: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port())).expect("connect");
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
        let mut reply = [0u8; 4096];
        let n = stream.read(&mut reply).unwrap();
        String::from_utf8_lossy(&reply[..n]).into_owned()
    }

    /// Authenticate the helper connections of [`exec`](Self::exec) as `user`
    /// from now on (after the test disabled or passworded the default user).
    pub fn authenticate_as(&self, user: &str, password: &str) {
        *self.auth.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((user.to_owned(), password.to_owned()));
    }

    /// Runs one command (binary-safe) on a new connection; panics on I/O errors.
    pub fn exec<A: AsRef<[u8]>>(&self, args: &[A]) -> Resp {
        exec_on(self.port(), &self.auth, args)
            .unwrap_or_else(|e| panic!("command on port {}: {e}", self.port()))
    }

    /// A new helper connection (authenticated like [`exec`](Self::exec)).
    pub fn connect(&self) -> RespConn {
        let auth = auth_of(&self.auth);
        let auth = auth.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
        RespConn::connect(self.port(), auth).expect("connect to the test server")
    }

    /// SIGSTOP: the server keeps its sockets but answers nothing. The returned
    /// guard sends SIGCONT when dropped (also on a panic).
    pub fn pause(&self) -> Paused<'_> {
        self.process.signal("STOP");
        Paused {
            resume: Box::new(|| self.process.signal("CONT")),
        }
    }

    /// SIGKILL now, keeping the port and arguments for [`restart`](Self::restart).
    pub fn kill_now(&mut self) {
        self.process.kill();
    }

    /// Starts the server again on the same port with the same arguments.
    pub fn restart(&mut self) {
        self.process.start();
    }

    /// Kills the server (SIGKILL) and waits for it.
    pub fn kill(mut self) {
        self.process.kill();
    }
}

/// A SIGSTOPped server or node; sends SIGCONT when dropped.
pub struct Paused<'a> {
    resume: Box<dyn Fn() + 'a>,
}

impl Paused<'_> {
    /// Sends SIGCONT now.
    pub fn resume(self) {}
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        (self.resume)();
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("free port")
}

/// `n` distinct ports nothing listens on right now.
pub fn free_ports(n: usize) -> Vec<u16> {
    // Hold every listener until all are chosen so the ports differ.
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local address").port())
        .collect()
}

// ---------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------

/// The masters of a [`RedisCluster`].
pub const CLUSTER_NODES: usize = 3;

/// A scratch directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory under the system's temporary directory.
    pub fn new(tag: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "cache-tests-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        Self(path)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A 3-master Redis Cluster (no replicas) on loopback ports, persistence off.
/// Its nodes' config files and logs live in a temporary directory removed on drop.
pub struct RedisCluster {
    // Dropped first: every node is killed before the directory goes.
    nodes: Vec<Process>,
    auth: Auth,
    dir: TempDir,
}

impl RedisCluster {
    /// Starts and joins a cluster, or returns `None` (after saying so) when
    /// `redis-server`/`redis-cli` are not installed; with `CI` set that fails.
    pub fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// [`start`](Self::start) with extra `redis-server` arguments for every node.
    pub fn start_with(extra: &[&str]) -> Option<Self> {
        redis_available(true).then(|| Self::start_on_with(&free_ports(CLUSTER_NODES), extra))
    }

    /// Starts and joins a cluster on the given client ports (chosen in advance,
    /// e.g. so a backend can be built before the cluster exists).
    pub fn start_on(ports: &[u16]) -> Self {
        Self::start_on_with(ports, &[])
    }

    /// [`start_on`](Self::start_on) with extra arguments for every node.
    pub fn start_on_with(ports: &[u16], extra: &[&str]) -> Self {
        assert_eq!(ports.len(), CLUSTER_NODES, "a cluster has three masters");
        let dir = TempDir::new("cluster");
        // Bus ports distinct from the client ports (a port freed by one
        // `free_ports` call can come back from the next).
        let bus_ports = loop {
            let bus = free_ports(CLUSTER_NODES);
            if bus.iter().all(|port| !ports.contains(port)) {
                break bus;
            }
        };
        let nodes = ports
            .iter()
            .zip(&bus_ports)
            .map(|(&port, &bus)| {
                let mut args = base_args(port);
                args.extend(
                    [
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        &dir.0.join(format!("nodes-{port}.conf")).to_string_lossy(),
                        "--cluster-port",
                        &bus.to_string(),
                        "--dir",
                        &dir.0.to_string_lossy(),
                        "--logfile",
                        &dir.0.join(format!("redis-{port}.log")).to_string_lossy(),
                    ]
                    .iter()
                    .map(|s| (*s).to_owned()),
                );
                args.extend(extra.iter().map(|s| (*s).to_owned()));
                Process::spawn(port, args, Readiness::Ping)
            })
            .collect();
        let cluster = Self {
            nodes,
            auth: Mutex::new(None),
            dir,
        };
        cluster.create();
        cluster.wait_ok();
        cluster
    }

    /// `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`, bounded.
    fn create(&self) {
        let log = self.dir.0.join("cluster-create.log");
        let out = std::fs::File::create(&log).expect("create the log file");
        let err = out.try_clone().expect("clone the log file");
        let mut args = vec!["--cluster".to_owned(), "create".to_owned()];
        args.extend(self.ports().iter().map(|p| format!("127.0.0.1:{p}")));
        args.extend(["--cluster-replicas", "0", "--cluster-yes"].map(str::to_owned));
        let mut child = Command::new("redis-cli")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn redis-cli");
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for redis-cli") {
                break status;
            }
            // Joining polls once a second; on a loaded 2-core machine it can
            // take several rounds.
            if start.elapsed() > 3 * DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "redis-cli --cluster create did not finish in time:\n{}",
                    read_lossy(&log)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            status.success(),
            "redis-cli --cluster create failed:\n{}",
            read_lossy(&log)
        );
    }

    /// Waits until `CLUSTER INFO` says `cluster_state:ok` on every node and every
    /// node knows all three masters.
    pub fn wait_ok(&self) {
        let start = Instant::now();
        loop {
            let ok = (0..self.nodes.len()).all(|i| {
                let info = self.try_exec_on(i, &["CLUSTER", "INFO"]);
                let slots = self.try_exec_on(i, &["CLUSTER", "SLOTS"]);
                matches!(info, Ok(Resp::Bulk(ref text))
                        if String::from_utf8_lossy(text).contains("cluster_state:ok"))
                    && matches!(slots, Ok(Resp::Array(ref ranges)) if ranges.len() == CLUSTER_NODES)
            });
            if ok {
                return;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "the cluster did not reach cluster_state:ok; logs:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The node logs, for a failure message.
    pub fn logs(&self) -> String {
        let mut text = read_lossy(&self.dir.0.join("cluster-create.log"));
        for port in self.ports() {
            text.push_str(&format!("--- node {port} ---\n"));
            text.push_str(&read_lossy(&self.dir.0.join(format!("redis-{port}.log"))));
        }
        text
    }

    /// The client ports of the masters.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// `redis://127.0.0.1:<port>/` of every master.
    pub fn urls(&self) -> Vec<String> {
        self.ports()
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}/"))
            .collect()
    }

    /// The pid of node `i`.
    pub fn pid(&self, i: usize) -> u32 {
        self.nodes[i].pid()
    }

    /// Authenticate helper connections as `user` from now on.
    pub fn authenticate_as(&self, user: &str, password: &str) {
        *self.auth.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((user.to_owned(), password.to_owned()));
    }

    fn try_exec_on<A: AsRef<[u8]>>(&self, i: usize, args: &[A]) -> io::Result<Resp> {
        exec_on(self.nodes[i].port, &self.auth, args)
    }

    /// Runs one command on node `i`; panics on I/O errors.
    pub fn command_on<A: AsRef<[u8]>>(&self, i: usize, args: &[A]) -> Resp {
        self.try_exec_on(i, args)
            .unwrap_or_else(|e| panic!("command on node {i}: {e}"))
    }

    /// Runs one command on every running node.
    pub fn command_on_all<A: AsRef<[u8]>>(&self, args: &[A]) -> Vec<Resp> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].child.is_some())
            .map(|i| self.command_on(i, args))
            .collect()
    }

    /// The index of the node that serves `key`'s slot (following `MOVED`).
    pub fn owner_of(&self, key: &[u8]) -> usize {
        let slot = self
            .command_on(
                self.first_running(),
                &[b"CLUSTER".as_slice(), b"KEYSLOT", key],
            )
            .int();
        let ranges = self.command_on(self.first_running(), &["CLUSTER", "SLOTS"]);
        let Resp::Array(ranges) = ranges else {
            panic!("CLUSTER SLOTS: {ranges:?}")
        };
        for range in ranges {
            let Resp::Array(fields) = range else { continue };
            let (Some(Resp::Int(lo)), Some(Resp::Int(hi)), Some(Resp::Array(master))) =
                (fields.first(), fields.get(1), fields.get(2))
            else {
                continue;
            };
            if (*lo..=*hi).contains(&slot) {
                let port = master.get(1).map(Resp::int).expect("master port");
                return self
                    .nodes
                    .iter()
                    .position(|n| i64::from(n.port) == port)
                    .expect("a master of this cluster");
            }
        }
        panic!("no master serves slot {slot}")
    }

    fn first_running(&self) -> usize {
        self.nodes
            .iter()
            .position(|n| n.child.is_some())
            .expect("a running node")
    }

    /// Runs a command about `key` (its first argument after the name) on the
    /// node that owns the key.
    pub fn command_for_key<A: AsRef<[u8]>>(&self, key: &[u8], args: &[A]) -> Resp {
        self.command_on(self.owner_of(key), args)
    }

    /// SIGKILL node `i` (by its handle).
    pub fn kill_node(&mut self, i: usize) {
        self.nodes[i].kill();
    }

    /// Restarts node `i` on the same port with the same config file, so it
    /// rejoins with its node id and slots (and no data); waits until the cluster
    /// is `ok` again.
    pub fn restart_node(&mut self, i: usize) {
        self.nodes[i].start();
        self.wait_ok();
    }

    /// SIGSTOP node `i`; the guard sends SIGCONT when dropped (also on a panic).
    pub fn pause_node(&self, i: usize) -> Paused<'_> {
        self.nodes[i].signal("STOP");
        Paused {
            resume: Box::new(move || self.nodes[i].signal("CONT")),
        }
    }

    /// SIGSTOP node `i` without a guard (pair with [`cont_node`](Self::cont_node);
    /// the node is killed on drop either way).
    pub fn stop_node(&self, i: usize) {
        self.nodes[i].signal("STOP");
    }

    /// SIGCONT node `i`.
    pub fn cont_node(&self, i: usize) {
        self.nodes[i].signal("CONT");
    }
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Either
// ---------------------------------------------------------------------------

/// Which deployment a topology-generic test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    /// One `redis-server`.
    Single,
    /// A 3-master [`RedisCluster`].
    Cluster,
}

/// A running deployment of either [`Topology`], with the operations the
/// topology-generic tests need.
pub enum Redis {
    /// One server.
    Single(RedisServer),
    /// A cluster.
    Cluster(RedisCluster),
}

impl Redis {
    /// Starts a deployment; `None` when Redis is not installed (a failure with `CI`).
    pub fn start(topology: Topology) -> Option<Self> {
        Self::start_with(topology, &[])
    }

    /// [`start`](Self::start) with extra `redis-server` arguments (every node).
    pub fn start_with(topology: Topology, extra: &[&str]) -> Option<Self> {
        match topology {
            Topology::Single => RedisServer::start_with(extra).map(Self::Single),
            Topology::Cluster => RedisCluster::start_with(extra).map(Self::Cluster),
        }
    }

    /// Ports for [`start_on`](Self::start_on), chosen before anything listens.
    pub fn reserve_ports(topology: Topology) -> Vec<u16> {
        match topology {
            Topology::Single => free_ports(1),
            Topology::Cluster => free_ports(CLUSTER_NODES),
        }
    }

    /// Starts a deployment on ports chosen in advance.
    pub fn start_on(topology: Topology, ports: &[u16]) -> Self {
        match topology {
            Topology::Single => Self::Single(RedisServer::start_on(ports[0])),
            Topology::Cluster => Self::Cluster(RedisCluster::start_on(ports)),
        }
    }

    /// How many nodes (masters).
    pub fn node_count(&self) -> usize {
        match self {
            Self::Single(_) => 1,
            Self::Cluster(c) => c.nodes.len(),
        }
    }

    /// Every node's port.
    pub fn ports(&self) -> Vec<u16> {
        match self {
            Self::Single(s) => vec![s.port()],
            Self::Cluster(c) => c.ports(),
        }
    }

    /// Every node's `redis://127.0.0.1:<port>/`.
    pub fn urls(&self) -> Vec<String> {
        match self {
            Self::Single(s) => vec![s.url()],
            Self::Cluster(c) => c.urls(),
        }
    }

    /// Authenticate helper connections as `user` from now on.
    pub fn authenticate_as(&self, user: &str, password: &str) {
        match self {
            Self::Single(s) => s.authenticate_as(user, password),
            Self::Cluster(c) => c.authenticate_as(user, password),
        }
    }

    /// Runs a command on node `i`.
    pub fn command_on<A: AsRef<[u8]>>(&self, i: usize, args: &[A]) -> Resp {
        match self {
            Self::Single(s) => {
                assert_eq!(i, 0, "a single server has one node");
                s.exec(args)
            }
            Self::Cluster(c) => c.command_on(i, args),
        }
    }

    /// Runs a command on every node (`ACL SETUSER`, `CONFIG SET`, `FLUSHALL`…).
    pub fn command_on_all<A: AsRef<[u8]>>(&self, args: &[A]) -> Vec<Resp> {
        match self {
            Self::Single(s) => vec![s.exec(args)],
            Self::Cluster(c) => c.command_on_all(args),
        }
    }

    /// The node index that serves `key`.
    pub fn owner_of(&self, key: &str) -> usize {
        match self {
            Self::Single(_) => 0,
            Self::Cluster(c) => c.owner_of(key.as_bytes()),
        }
    }

    /// `redis://127.0.0.1:<port>/` of the node that serves `key`.
    pub fn owner_url(&self, key: &str) -> String {
        self.urls()[self.owner_of(key)].clone()
    }

    /// Runs a command about `key` on the node that serves it.
    pub fn command_for_key<A: AsRef<[u8]>>(&self, key: &str, args: &[A]) -> Resp {
        self.command_on(self.owner_of(key), args)
    }

    /// Every key matching `pattern`, over all nodes, sorted.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        let mut keys: Vec<String> = self
            .command_on_all(&["KEYS", pattern])
            .iter()
            .flat_map(Resp::strings)
            .collect();
        keys.sort();
        keys
    }

    /// `PTTL key` on its node.
    pub fn pttl(&self, key: &str) -> i64 {
        self.command_for_key(key, &["PTTL", key]).int()
    }

    /// `GET key` on its node (binary).
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.command_for_key(key, &["GET", key])
            .bytes()
            .map(<[u8]>::to_vec)
    }

    /// Whether `key` exists.
    pub fn exists(&self, key: &str) -> bool {
        self.command_for_key(key, &["EXISTS", key]).int() == 1
    }

    /// Total keys over all nodes (`DBSIZE` of the current database).
    pub fn dbsize(&self) -> i64 {
        self.command_on_all(&["DBSIZE"]).iter().map(Resp::int).sum()
    }

    /// SIGKILL node `i`.
    pub fn kill_node(&mut self, i: usize) {
        match self {
            Self::Single(s) => s.kill_now(),
            Self::Cluster(c) => c.kill_node(i),
        }
    }

    /// Restarts node `i` on its port (a cluster node rejoins; waits for `ok`).
    pub fn restart_node(&mut self, i: usize) {
        match self {
            Self::Single(s) => s.restart(),
            Self::Cluster(c) => c.restart_node(i),
        }
    }

    /// SIGSTOP node `i`; SIGCONT when the guard drops.
    pub fn pause_node(&self, i: usize) -> Paused<'_> {
        match self {
            Self::Single(s) => s.pause(),
            Self::Cluster(c) => c.pause_node(i),
        }
    }
}

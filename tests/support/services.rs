//! Real services for the tests: redis-server and nginx from Debian's packages, installed
//! with apt-get when missing (a fresh machine has neither; a failed install fails the
//! test, never skips it), each started on a free loopback port and stopped with the test.
//! And the example miner as a process, as an operator runs it.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

const REDIS: &str = "/usr/bin/redis-server";
const NGINX: &str = "/usr/sbin/nginx";
const STREAM_MODULE: &str = "/usr/lib/nginx/modules/ngx_stream_module.so";

/// Installs redis-server, nginx and its stream module from Debian's packages unless they
/// are there.
pub fn install() {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if *done
        || [REDIS, NGINX, STREAM_MODULE]
            .iter()
            .all(|p| Path::new(p).exists())
    {
        *done = true;
        return;
    }
    let apt = |args: &[&str]| {
        let out = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .unwrap_or_else(|e| {
                panic!("apt-get {args:?}: {e} (the cluster tests need Debian's apt-get)")
            });
        assert!(
            out.status.success(),
            "apt-get {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    apt(&["update", "-q"]);
    let packages = ["redis-server", "nginx", "libnginx-mod-stream"];
    apt(&[
        &["install", "-y", "-q", "--no-install-recommends"][..],
        &packages,
    ]
    .concat());
    for path in [REDIS, NGINX, STREAM_MODULE] {
        assert!(
            Path::new(path).exists(),
            "{path} missing after installing {packages:?}"
        );
    }
    *done = true;
}

/// A free loopback port.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("axon-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A redis-server on loopback, without persistence.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
    /// Its arguments.
    args: Vec<String>,
    /// The log line that says it is ready.
    ready: &'static str,
    /// Its working directory, where a replica writes what it loads from its master.
    _dir: TempDir,
}

impl Redis {
    pub fn start() -> Redis {
        Redis::start_with(free_port(), &[])
    }

    /// A redis-server on `port` with `extra` settings after the defaults (a later setting
    /// wins: `--port 0 --tls-port P` serves TLS alone on `P`).
    pub fn start_with(port: u16, extra: &[&str]) -> Redis {
        let p = port.to_string();
        let dir = TempDir::new(&format!("redis-{port}"));
        let d = dir.0.to_str().unwrap().to_owned();
        let defaults = [
            "--port",
            &p,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ];
        let args = [&defaults[..], &["--logfile", "", "--dir", &d], extra].concat();
        Redis::run(port, &args, "Ready to accept connections", dir)
    }

    /// A Redis Sentinel on `port`, with the configuration file `config` (which it rewrites).
    pub fn sentinel(port: u16, config: &Path) -> Redis {
        let p = port.to_string();
        let config = config.to_str().unwrap();
        let args = [
            config,
            "--sentinel",
            "--port",
            &p,
            "--bind",
            "127.0.0.1",
            "--logfile",
            "",
        ];
        let dir = TempDir::new(&format!("sentinel-{port}"));
        Redis::run(port, &args, "+monitor master", dir)
    }

    fn run(port: u16, args: &[&str], ready: &'static str, dir: TempDir) -> Redis {
        install();
        let mut redis = Redis {
            port,
            child: None,
            args: args.iter().map(|a| a.to_string()).collect(),
            ready,
            _dir: dir,
        };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Starts it (again) on its port; returns once it accepts connections.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "redis is running");
        let mut child = Command::new(REDIS)
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start redis-server");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut log = Vec::new();
        let ready = lines.by_ref().map_while(Result::ok).any(|l| {
            let ready = l.contains(self.ready);
            log.push(l);
            ready
        });
        assert!(
            ready,
            "redis-server exited before it was ready:\n{}",
            log.join("\n")
        );
        // Keep reading its log so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        self.child = Some(child);
    }

    /// Freezes it (SIGSTOP): connections stay open and nothing answers.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws it (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self
            .child
            .as_ref()
            .expect("redis is running")
            .id()
            .to_string();
        assert!(Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success());
    }

    /// Kills it (SIGKILL): connections reset, the port refuses.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A Redis Cluster on loopback, made by `redis-cli --cluster create`, its nodes' state
/// kept in a temporary directory.
pub struct RedisCluster {
    pub nodes: Vec<Redis>,
    _dir: TempDir,
}

impl RedisCluster {
    /// `nodes` nodes, `replicas` for each master, each started with `settings(port)` after
    /// the cluster's; `cli` are redis-cli's arguments to reach them (`--tls ..`).
    pub fn start_with(
        nodes: usize,
        replicas: usize,
        settings: &dyn Fn(u16) -> Vec<String>,
        cli: &[&str],
    ) -> RedisCluster {
        let dir = TempDir::new(&format!("redis-cluster-{}", free_port()));
        let nodes: Vec<Redis> = (0..nodes)
            .map(|i| {
                let port = free_port();
                let file = format!("nodes-{i}.conf");
                let d = dir.0.to_str().unwrap();
                let own = settings(port);
                let args = [
                    &[
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        &file,
                        "--cluster-node-timeout",
                        "2000",
                        "--dir",
                        d,
                    ][..],
                    &own.iter().map(String::as_str).collect::<Vec<_>>(),
                ]
                .concat();
                Redis::start_with(port, &args)
            })
            .collect();
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new("redis-cli")
            .args(cli)
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .output()
            .expect("redis-cli --cluster create");
        assert!(
            out.status.success(),
            "redis-cli --cluster create: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = RedisCluster { nodes, _dir: dir };
        for node in &cluster.nodes {
            let args = [cli, &["CLUSTER", "INFO"]].concat();
            redis_until(node.port, "cluster_state:ok", &args);
        }
        cluster
    }

    /// The ports of the masters and of their replicas, in the cluster's own words.
    pub fn roles(&self) -> (Vec<u16>, Vec<u16>) {
        let (mut masters, mut replicas) = (Vec::new(), Vec::new());
        for node in &self.nodes {
            match redis_cli(node.port, &["ROLE"]).lines().next() {
                Some("master") => masters.push(node.port),
                _ => replicas.push(node.port),
            }
        }
        (masters, replicas)
    }
}

/// `redis-cli -p port args..`: what it printed.
pub fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asks `port` `args` until its answer holds `text` (60 s at most, every 100 ms).
pub fn redis_until(port: u16, text: &str, args: &[&str]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let answer = redis_cli(port, args);
        if answer.contains(text) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{port} never answered {args:?} with {text}: {answer}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A master, its replica and three sentinels watching them (quorum 2; a master that does
/// not answer for 1 s is down), on loopback. Each node takes writes only while a replica
/// follows it (`min-replicas-to-write 1`, as the guide asks): a master the sentinels
/// replaced refuses them rather than lose them. The miners log in as `miner:secret`.
pub struct RedisSentinels {
    /// The master's name, as the sentinels know it.
    pub name: &'static str,
    pub nodes: Vec<Redis>,
    pub sentinels: Vec<Redis>,
    _dir: TempDir,
}

impl RedisSentinels {
    /// Starts them; returns once every sentinel knows the replica and the other two.
    pub fn start() -> RedisSentinels {
        let name = "replay";
        let dir = TempDir::new(&format!("redis-sentinel-{}", free_port()));
        // The miners log in as an ACL user of their own, allowed what the guide allows a
        // Sentinel setup's miners (the sentinels and replication use the default user).
        let guarded = [
            "--min-replicas-to-write",
            "1",
            "--repl-diskless-sync-delay",
            "0",
            "--user",
            "miner",
            "on",
            ">secret",
            "~axon:replay:*",
            "+set",
            "+ping",
            "+role",
        ];
        let master = Redis::start_with(free_port(), &guarded);
        let of = master.port.to_string();
        let replica = Redis::start_with(
            free_port(),
            &[&guarded[..], &["--replicaof", "127.0.0.1", &of]].concat(),
        );
        redis_until(master.port, "state=online", &["INFO", "REPLICATION"]);
        let sentinels: Vec<Redis> = (0..3)
            .map(|i| {
                let config = dir.0.join(format!("sentinel-{i}.conf"));
                let watch = format!(
                    "sentinel monitor {name} 127.0.0.1 {} 2\n\
                     sentinel down-after-milliseconds {name} 1000\n\
                     sentinel failover-timeout {name} 5000\n",
                    master.port
                );
                std::fs::write(&config, watch).unwrap();
                Redis::sentinel(free_port(), &config)
            })
            .collect();
        for sentinel in &sentinels {
            let replica = format!("{}", replica.port);
            redis_until(sentinel.port, &replica, &["SENTINEL", "REPLICAS", name]);
            let known = || redis_cli(sentinel.port, &["SENTINEL", "SENTINELS", name]);
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while known().lines().filter(|l| *l == "runid").count() < 2 {
                assert!(std::time::Instant::now() < deadline, "sentinels never met");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        RedisSentinels {
            name,
            nodes: vec![master, replica],
            sentinels,
            _dir: dir,
        }
    }

    /// The port of the master the sentinels name now (the first sentinel's word).
    pub fn master(&self) -> u16 {
        let answer = redis_cli(
            self.sentinels[0].port,
            &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.name],
        );
        answer
            .lines()
            .nth(1)
            .and_then(|p| p.trim().parse().ok())
            .expect("a master's port")
    }

    /// `--axon.replay_store_sentinel` for each sentinel.
    pub fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for sentinel in &self.sentinels {
            args.push("--axon.replay_store_sentinel".to_owned());
            args.push(format!("127.0.0.1:{}", sentinel.port));
        }
        args
    }
}

/// An nginx in the foreground with a configuration of the test's.
pub struct Nginx {
    pub port: u16,
    child: Child,
    _dir: TempDir,
}

impl Nginx {
    /// Starts nginx with `conf` (the `http`/`stream` blocks; the main context is added);
    /// returns once it accepts connections on `port`.
    pub async fn start(conf: &str, port: u16, stream: bool) -> Nginx {
        install();
        let dir = TempDir::new(&format!("nginx-{port}"));
        let d = dir.0.display();
        let module = match stream {
            true => format!("load_module {STREAM_MODULE};\n"),
            false => String::new(),
        };
        let full = format!(
            "{module}daemon off;\nmaster_process off;\npid {d}/nginx.pid;\n\
             error_log stderr warn;\nevents {{ worker_connections 1024; }}\n{conf}\n"
        );
        let path = dir.0.join("nginx.conf");
        std::fs::write(&path, full).unwrap();
        let child = Command::new(NGINX)
            .arg("-p")
            .arg(&dir.0)
            .arg("-c")
            .arg(&path)
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nginx");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        // Ready once it accepts (no log line says so with `daemon off`).
        let connected = async {
            while tokio::net::TcpStream::connect(addr).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), connected)
            .await
            .expect("nginx listening within 30 s");
        Nginx {
            port,
            child,
            _dir: dir,
        }
    }

    /// The `temp_path`s an `http` block needs, under its prefix (the test runs as anyone).
    pub fn http_paths() -> &'static str {
        "client_body_temp_path tmp_body; proxy_temp_path tmp_proxy; access_log off;\n\
         fastcgi_temp_path tmp_fcgi; uwsgi_temp_path tmp_uwsgi; scgi_temp_path tmp_scgi;"
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The guide's nginx configuration (`docs/operations.md`): its HTTP `server` block and its
/// `stream` block.
pub fn guide_nginx() -> (String, String) {
    let path = super::workspace_root().join("docs").join("operations.md");
    let guide = std::fs::read_to_string(path).unwrap();
    let block = guide
        .split("```nginx\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("docs/operations.md has an ```nginx block");
    let (http, stream) = block
        .split_once("stream {")
        .expect("the nginx block has a `stream {` block");
    let http: String = http
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    (http, format!("stream {{{stream}"))
}

/// Replaces `from` with `to` in `text`, failing when `from` is not there (the guide
/// changed: the test must follow it).
pub fn substitute(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` not in:\n{text}");
    text.replace(from, to)
}

/// The example miner as a process.
pub struct Miner {
    pub child: Child,
    pub port: u16,
    pub ops: Option<SocketAddr>,
    out: std::sync::mpsc::Receiver<String>,
}

impl Miner {
    /// Starts `echo_miner` with `args` (and `--axon.port 0` unless `port` is given); waits
    /// until it listens.
    pub fn start(port: Option<u16>, args: &[&str]) -> Miner {
        let port_arg = port.unwrap_or(0).to_string();
        let mut child = Command::new(super::example("echo_miner"))
            .args(["--axon.port", &port_arg])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start echo_miner");
        let (tx, out) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (mut port, mut ops) = (None, None);
        let wants_ops = args.contains(&"--ops");
        while port.is_none() || (wants_ops && ops.is_none()) {
            let line = out
                .recv_timeout(Duration::from_secs(60))
                .expect("echo_miner listening within 60 s");
            if let Some(a) = line.strip_prefix("echo_miner: listening on ") {
                port = a.parse::<SocketAddr>().ok().map(|a| a.port());
            }
            if let Some(rest) = line.strip_prefix("echo_miner: operations on http://") {
                ops = rest.split('/').next().and_then(|a| a.parse().ok());
            }
        }
        Miner {
            child,
            port: port.unwrap(),
            ops,
            out,
        }
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    }

    /// Waits for it to exit (after [`sigterm`](Self::sigterm)): its exit code and how many
    /// echoes it served.
    pub fn wait(mut self) -> (i32, u64) {
        let mut served = None;
        while let Ok(line) = self.out.recv_timeout(Duration::from_secs(60)) {
            if let Some(n) = line
                .strip_prefix("echo_miner: stopped after ")
                .and_then(|r| r.strip_suffix(" echoes"))
            {
                served = n.parse().ok();
            }
        }
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        (code, served.expect("echo_miner printed how many it served"))
    }
}

impl Drop for Miner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

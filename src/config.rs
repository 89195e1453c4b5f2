//! Server configuration, read from environment variables with the names this stack's users expect.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `LEPTOS_SITE_ADDR` | `127.0.0.1:3000` | address to listen on (port 0 picks a free port) |
//! | `ROWBENCH_DATA_DIR` | `./data` | where the SQLite database lives |
//! | `DATABASE_URL` | `sqlite://<data dir>/rowbench.db` | database to use: an SQLite file, or `postgres://user:password@host:port/database` (PostgreSQL 15 or newer; several instances may share it) |
//! | `ROWBENCH_INSTANCE` | host, process id and start time | the name this instance holds queue rows under; keep it across restarts and different per instance, so a restarted instance takes back its rows at once |
//! | `LEPTOS_SITE_ROOT` | `target/site` | the built site (wasm, JS, CSS, public files) |
//! | `LEPTOS_SITE_PKG_DIR` | `pkg` | folder of the built wasm/JS/CSS inside the site root |
//! | `LEPTOS_OUTPUT_NAME` | `rowbench` | file name of the built wasm/JS/CSS |
//! | `ROWBENCH_MAX_UPLOAD_BYTES` | 1 GiB | largest CSV accepted |
//! | `ROWBENCH_MAX_COLUMNS` | 1000 | most columns a CSV may have |
//! | `ROWBENCH_MAX_FIELD_BYTES` | 1 MiB | longest cell a CSV may have |
//! | `ROWBENCH_UPLOAD_IDLE_SECS` | 30 | how long an upload may send nothing before it is stopped as stalled (408) |
//! | `OPENAI_API_KEY`, `OPENAI_BASE_URL` | unset | an OpenAI-compatible provider |
//! | `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL` | unset | Anthropic |
//! | `GEMINI_API_KEY` | unset | Google Gemini |
//! | `OLLAMA_HOST` | unset | a local Ollama server |
//! | `ROWBENCH_PROVIDERS_FILE` | unset | a TOML file of named providers, models and prices |
//! | `ROWBENCH_LEASE_MS` | 15000 | how long a claimed row stays claimed without a heartbeat (sent every third of it) |
//! | `ROWBENCH_MAX_IN_FLIGHT` | 256 | most rows in flight at once over all batches |
//! | `ROWBENCH_ALLOWED_HOSTS` | unset | more `host[:port]` names the server answers to, comma-separated (a reverse proxy's or LAN name); without a port, any port |
//! | `ROWBENCH_PAGE_THREADS` | cores (2 to 8) | threads that render pages, apart from the API and the queue |
//! | `ROWBENCH_PAGE_TIMEOUT_SECS` | 10 | a page not rendered by then answers 503 (and is logged with its route) |
//! | `ROWBENCH_SHUTDOWN_GRACE_SECS` | 10 | how long Ctrl-C or SIGTERM waits for requests in flight before dropping them |
//! | `ROWBENCH_MODE` | `local` | `local`: one user, no sign-in, loopback only; `team`: accounts, workspaces, roles and API tokens |
//! | `ROWBENCH_ALLOW_REMOTE` | unset | `1` lets local mode listen on an address other than loopback (anyone who reaches it can use everything) |
//! | `ROWBENCH_PUBLIC_URL` | unset | the address people open, such as `https://rowbench.example.com`: its host is allowed, its origin is the one state-changing requests must come from, and `https` makes cookies `Secure` |
//! | `ROWBENCH_SESSION_IDLE_MINUTES` | 720 | team mode: a session unused this long ends |
//! | `ROWBENCH_SESSION_MAX_HOURS` | 168 | team mode: a session ends this long after sign-in, used or not |
//! | `RUST_LOG` | `info` | log filter |

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything the server needs to start.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub site_root: PathBuf,
    pub site_pkg_dir: String,
    pub output_name: String,
    /// Limits on uploaded files.
    pub limits: rowbench_ingest::IngestLimits,
    /// How long an upload's body may send nothing before the upload is stopped as stalled.
    pub upload_idle: Duration,
    /// Providers and models, from the conventional variables and `ROWBENCH_PROVIDERS_FILE`.
    pub catalog: rowbench_providers::catalog::Catalog,
    /// How the queue worker paces itself.
    pub queue: QueueSettings,
    /// Page rendering's own threads and time limit.
    pub pages: crate::page_pool::PageSettings,
    /// How long a stop waits for requests in flight (an open event stream never ends by itself).
    pub shutdown_grace: Duration,
    /// Host names the server answers to besides its own address (and, on loopback, `localhost`,
    /// `127.0.0.1` and `[::1]` with its port): see `src/security.rs`.
    pub allowed_hosts: Vec<AllowedHost>,
    /// The name queue leases are held under (`ROWBENCH_INSTANCE`); a fresh one per process when
    /// unset.
    pub instance: Option<String>,
    /// Who may use the server and how they prove it.
    pub access: AccessSettings,
}

/// Local mode (one user, no sign-in) or team mode (accounts and workspaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Local,
    Team,
}

/// `ROWBENCH_PUBLIC_URL`: where people reach the server, behind a proxy or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// `https://rowbench.example.com` (with the port when it is not the scheme's own).
    pub origin: String,
    pub host: AllowedHost,
    pub https: bool,
}

impl std::str::FromStr for PublicUrl {
    type Err = ();

    fn from_str(raw: &str) -> Result<Self, ()> {
        let url = url::Url::parse(raw.trim()).map_err(|_| ())?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(()),
        };
        if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
            return Err(());
        }
        let name = url.host_str().ok_or(())?;
        let host: AllowedHost = match url.port() {
            Some(port) => format!("{name}:{port}"),
            None => name.to_string(),
        }
        .parse()?;
        let host = AllowedHost {
            port: Some(url.port_or_known_default().ok_or(())?),
            ..host
        };
        Ok(PublicUrl {
            origin: url.origin().ascii_serialization(),
            host,
            https,
        })
    }
}

/// Who may use the server: the mode, what local mode may listen on, and team mode's sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessSettings {
    pub mode: Mode,
    /// Local mode on an address beyond loopback, said explicitly (`ROWBENCH_ALLOW_REMOTE=1`).
    pub allow_remote: bool,
    pub public_url: Option<PublicUrl>,
    /// A team session unused this long ends.
    pub session_idle: Duration,
    /// A team session ends this long after sign-in, however often it is used.
    pub session_max: Duration,
    /// How wrong passwords slow sign-in down (not read from the environment; tests shorten it).
    pub throttle: rowbench_workbench::accounts::Throttle,
}

impl Default for AccessSettings {
    fn default() -> Self {
        AccessSettings {
            mode: Mode::Local,
            allow_remote: false,
            public_url: None,
            // A working day without a visit, and a week at most between sign-ins.
            session_idle: Duration::from_secs(12 * 3600),
            session_max: Duration::from_secs(7 * 24 * 3600),
            throttle: rowbench_workbench::accounts::Throttle::default(),
        }
    }
}

impl Config {
    /// Why the server must not start on this address, if it must not: local mode has no
    /// sign-in, so listening beyond loopback would give the network everything.
    pub fn refuse_to_listen(&self) -> Option<String> {
        let access = &self.access;
        if access.mode == Mode::Local && !access.allow_remote && !self.addr.ip().is_loopback() {
            return Some(format!(
                "local mode has no sign-in, so it only listens on loopback (127.0.0.1 or ::1), \
                 but LEPTOS_SITE_ADDR is {addr}. Set ROWBENCH_MODE=team to give people accounts, \
                 or ROWBENCH_ALLOW_REMOTE=1 if everyone who can reach {addr} may use everything.",
                addr = self.addr
            ));
        }
        None
    }
}

/// One `host[:port]` of `ROWBENCH_ALLOWED_HOSTS`, or the authority of a request's `Host` header:
/// the host lower-cased (an IPv6 address keeps its brackets), the port if one was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    pub host: String,
    pub port: Option<u16>,
}

impl AllowedHost {
    /// Whether `request` (a parsed `Host` header) names this host. An entry without a port
    /// matches any port; one with a port also matches a `Host` without one when that port is
    /// the scheme default, since browsers leave it out.
    pub fn matches(&self, request: &AllowedHost) -> bool {
        self.host == request.host
            && match (self.port, request.port) {
                (None, _) => true,
                (Some(want), Some(got)) => want == got,
                (Some(want), None) => want == 80 || want == 443,
            }
    }
}

impl std::str::FromStr for AllowedHost {
    type Err = ();

    /// `name`, `name:port`, `1.2.3.4[:port]` or `[v6][:port]`; no scheme, path or wildcard.
    fn from_str(raw: &str) -> Result<Self, ()> {
        let raw = raw.trim().to_ascii_lowercase();
        let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
            let (inside, after) = rest.split_once(']').ok_or(())?;
            inside.parse::<std::net::Ipv6Addr>().map_err(|_| ())?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or(())?),
            };
            (format!("[{inside}]"), port)
        } else {
            match raw.split_once(':') {
                Some((host, port)) => (host.to_string(), Some(port)),
                None => (raw.clone(), None),
            }
        };
        let name_ok = host.starts_with('[')
            || (!host.is_empty()
                && host.len() <= 253
                && !host.starts_with(['.', '-'])
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')));
        if !name_ok {
            return Err(());
        }
        let port = match port {
            None => None,
            Some(digits) if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) => {
                Some(digits.parse::<u16>().ok().filter(|p| *p > 0).ok_or(())?)
            }
            Some(_) => return Err(()),
        };
        Ok(AllowedHost { host, port })
    }
}

impl std::fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// The queue worker's configurable settings (one field on [`Config`], so code that builds a
/// `Config` by hand takes the defaults with one line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSettings {
    /// How long a claimed row stays this process's without a heartbeat: after a crash, its rows
    /// run again once this has passed since their last heartbeat.
    pub lease: Duration,
    /// The most rows in flight at once over all batches.
    pub max_in_flight: usize,
    /// Waits between retries of a failed provider call (not read from the environment: the
    /// defaults suit real providers; tests shorten them).
    pub backoff: rowbench_providers::BackoffPolicy,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            // Long enough that a busy server never loses a row it is working on, short enough
            // that a crashed server's rows resume within seconds of a restart.
            lease: Duration::from_millis(15_000),
            // Enough for several batches at the highest per-batch concurrency.
            max_in_flight: 256,
            backoff: rowbench_providers::BackoffPolicy::default(),
        }
    }
}

impl QueueSettings {
    /// The worker's configuration: this lease and cap, a heartbeat three times per lease (so
    /// one late heartbeat never costs the row), and the worker's defaults for the rest.
    pub fn worker_config(&self) -> rowbench_queue::WorkerConfig {
        rowbench_queue::WorkerConfig {
            lease: self.lease,
            heartbeat: self.lease / 3,
            max_in_flight: self.max_in_flight,
            backoff: self.backoff,
            ..rowbench_queue::WorkerConfig::default()
        }
    }
}

/// A configuration value that cannot be used, named with the variable that holds it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("LEPTOS_SITE_ADDR must be an address such as 127.0.0.1:3000, but is {0:?}")]
    Address(String),
    #[error(
        "DATABASE_URL must be a SQLite URL such as sqlite://data/rowbench.db or a PostgreSQL one \
         such as postgres://rowbench:password@localhost:5432/rowbench, but starts with {0:?}"
    )]
    UnsupportedDatabase(String),
    #[error("provider configuration: {0}")]
    Providers(String),
    #[error("{0} is set but empty")]
    Empty(&'static str),
    #[error("{0} must be a whole number greater than 0, but is {1:?}")]
    Number(&'static str, String),
    #[error("ROWBENCH_MODE must be local or team, but is {0:?}")]
    Mode(String),
    #[error("{0} must be 1 or 0, but is {1:?}")]
    Flag(&'static str, String),
    #[error(
        "ROWBENCH_PUBLIC_URL must be the address people open, such as \
         https://rowbench.example.com (http or https, no path), but is {0:?}"
    )]
    PublicUrl(String),
    #[error(
        "ROWBENCH_ALLOWED_HOSTS must be host or host:port names separated by commas \
         (such as rowbench.lan,192.168.1.20:3000, without http:// or a path), but has {0:?}"
    )]
    AllowedHost(String),
}

/// How long an upload may send nothing, by default: a slow link still sends something every
/// few seconds; a client that stopped sending would otherwise hold its upload open for good.
pub const DEFAULT_UPLOAD_IDLE: Duration = Duration::from_secs(30);

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| -> Result<Option<String>, ConfigError> {
            match lookup(name) {
                Some(v) if v.trim().is_empty() => Err(ConfigError::Empty(name)),
                other => Ok(other),
            }
        };

        let addr = match get("LEPTOS_SITE_ADDR")? {
            Some(raw) => raw.trim().parse().map_err(|_| ConfigError::Address(raw))?,
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };
        let data_dir = PathBuf::from(get("ROWBENCH_DATA_DIR")?.unwrap_or_else(|| "data".into()));
        let database_url = match get("DATABASE_URL")? {
            Some(url) => url,
            None => format!("sqlite://{}", data_dir.join("rowbench.db").display()),
        };
        if !database_url.starts_with("sqlite:") && !rowbench_store::is_postgres_url(&database_url) {
            let scheme = database_url
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string();
            return Err(ConfigError::UnsupportedDatabase(scheme));
        }

        let number = |name: &'static str| -> Result<Option<u64>, ConfigError> {
            get(name)?
                .map(|raw| match raw.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(ConfigError::Number(name, raw)),
                })
                .transpose()
        };
        let mut limits = rowbench_ingest::IngestLimits::default();
        if let Some(n) = number("ROWBENCH_MAX_UPLOAD_BYTES")? {
            limits.max_bytes = n;
        }
        if let Some(n) = number("ROWBENCH_MAX_COLUMNS")? {
            limits.max_columns = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = number("ROWBENCH_MAX_FIELD_BYTES")? {
            limits.max_field_bytes = usize::try_from(n).unwrap_or(usize::MAX);
        }
        let upload_idle =
            number("ROWBENCH_UPLOAD_IDLE_SECS")?.map_or(DEFAULT_UPLOAD_IDLE, Duration::from_secs);
        let mut queue = QueueSettings::default();
        if let Some(n) = number("ROWBENCH_LEASE_MS")? {
            queue.lease = Duration::from_millis(n);
        }
        if let Some(n) = number("ROWBENCH_MAX_IN_FLIGHT")? {
            queue.max_in_flight = usize::try_from(n).unwrap_or(usize::MAX);
        }
        let mut pages = crate::page_pool::PageSettings::default();
        if let Some(n) = number("ROWBENCH_PAGE_THREADS")? {
            pages.threads = usize::try_from(n).unwrap_or(usize::MAX).min(64);
        }
        if let Some(n) = number("ROWBENCH_PAGE_TIMEOUT_SECS")? {
            pages.timeout = Duration::from_secs(n);
        }
        let shutdown_grace =
            Duration::from_secs(number("ROWBENCH_SHUTDOWN_GRACE_SECS")?.unwrap_or(10));
        let allowed_hosts = get("ROWBENCH_ALLOWED_HOSTS")?
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse()
                    .map_err(|()| ConfigError::AllowedHost(item.to_string()))
            })
            .collect::<Result<Vec<AllowedHost>, _>>()?;

        let mode = match get("ROWBENCH_MODE")?.as_deref().map(str::trim) {
            None | Some("local") => Mode::Local,
            Some("team") => Mode::Team,
            Some(other) => return Err(ConfigError::Mode(other.to_string())),
        };
        let mut access = AccessSettings {
            mode,
            ..AccessSettings::default()
        };
        access.allow_remote = match get("ROWBENCH_ALLOW_REMOTE")?.as_deref().map(str::trim) {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => return Err(ConfigError::Flag("ROWBENCH_ALLOW_REMOTE", other.into())),
        };
        if let Some(raw) = get("ROWBENCH_PUBLIC_URL")? {
            access.public_url = Some(raw.parse().map_err(|()| ConfigError::PublicUrl(raw))?);
        }
        if let Some(n) = number("ROWBENCH_SESSION_IDLE_MINUTES")? {
            access.session_idle = Duration::from_secs(n.saturating_mul(60));
        }
        if let Some(n) = number("ROWBENCH_SESSION_MAX_HOURS")? {
            access.session_max = Duration::from_secs(n.saturating_mul(3600));
        }

        Ok(Config {
            access,
            addr,
            data_dir,
            database_url,
            site_root: PathBuf::from(
                get("LEPTOS_SITE_ROOT")?.unwrap_or_else(|| "target/site".into()),
            ),
            site_pkg_dir: get("LEPTOS_SITE_PKG_DIR")?.unwrap_or_else(|| "pkg".into()),
            output_name: get("LEPTOS_OUTPUT_NAME")?.unwrap_or_else(|| "rowbench".into()),
            limits,
            upload_idle,
            catalog: rowbench_providers::catalog::Catalog::from_env(&|name| lookup(name))
                .map_err(|e| ConfigError::Providers(e.to_string()))?,
            queue,
            allowed_hosts,
            pages,
            shutdown_grace,
            instance: get("ROWBENCH_INSTANCE")?.map(|name| name.trim().to_owned()),
        })
    }

    /// Whether the database lives in the data directory (so the directory must exist).
    pub fn database_in_data_dir(&self) -> bool {
        if rowbench_store::is_postgres_url(&self.database_url) {
            return false;
        }
        let path = self
            .database_url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        std::path::Path::new(path).starts_with(&self.data_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The variable names in the first column of the README's Configuration table.
    fn documented_variables(readme: &str) -> std::collections::BTreeSet<String> {
        let section = readme
            .split("\n## Configuration\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("the README has a Configuration section");
        section
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|line| line.split('|').next())
            .flat_map(|cell| {
                format!("`{cell}")
                    .split('`')
                    .enumerate()
                    .filter(|(i, _)| i % 2 == 1)
                    // `OLLAMA_MODELS=a,b`: the name before an example value.
                    .map(|(_, name)| name.split('=').next().unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .collect()
    }

    #[test]
    fn the_readme_lists_exactly_the_variables_the_server_reads() {
        // Values that unlock the variables read only when another one is set (a provider's
        // base URL once its key is there).
        let unlock = [
            ("OPENAI_API_KEY", "sk-test"),
            ("ANTHROPIC_API_KEY", "sk-test"),
            ("GEMINI_API_KEY", "test"),
            ("OLLAMA_HOST", "127.0.0.1:11434"),
        ];
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        Config::from_lookup(|name| {
            asked.borrow_mut().insert(name.to_string());
            unlock
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
        .expect("a configuration with every provider");
        let mut read = asked.into_inner();
        // Read outside `from_lookup`: the log filter (tracing's `EnvFilter`) and cargo leptos's
        // live-reload flag (`security::Policy`).
        read.extend(["RUST_LOG".to_string(), "LEPTOS_WATCH".to_string()]);
        let documented = documented_variables(include_str!("../README.md"));
        let missing: Vec<_> = read.difference(&documented).collect();
        let stale: Vec<_> = documented.difference(&read).collect();
        assert!(
            missing.is_empty() && stale.is_empty(),
            "read but not in the README: {missing:?}; in the README but never read: {stale:?}"
        );
    }

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn with_nothing_set_it_serves_localhost_3000_from_a_sqlite_file_in_data() {
        let c = config(&[]).expect("defaults are valid");
        assert_eq!(c.addr, "127.0.0.1:3000".parse().expect("address"));
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.database_url, "sqlite://data/rowbench.db");
        assert!(c.database_in_data_dir());
        assert_eq!(c.site_root, PathBuf::from("target/site"));
    }

    #[test]
    fn local_mode_refuses_to_listen_beyond_loopback_unless_told_and_team_mode_may() {
        let open = config(&[("LEPTOS_SITE_ADDR", "0.0.0.0:3000")]).expect("valid");
        let why = open.refuse_to_listen().expect("refused");
        assert!(
            why.contains("ROWBENCH_MODE=team") && why.contains("0.0.0.0:3000"),
            "{why}"
        );
        let told = config(&[
            ("LEPTOS_SITE_ADDR", "0.0.0.0:3000"),
            ("ROWBENCH_ALLOW_REMOTE", "1"),
        ])
        .expect("valid");
        assert_eq!(told.refuse_to_listen(), None);
        let team = config(&[
            ("LEPTOS_SITE_ADDR", "0.0.0.0:3000"),
            ("ROWBENCH_MODE", "team"),
        ])
        .expect("valid");
        assert_eq!(team.access.mode, Mode::Team);
        assert_eq!(team.refuse_to_listen(), None);
        assert_eq!(config(&[]).expect("valid").refuse_to_listen(), None);
        assert!(matches!(
            config(&[("ROWBENCH_MODE", "teams")]),
            Err(ConfigError::Mode(_))
        ));
    }

    #[test]
    fn a_public_url_gives_its_origin_host_and_scheme_and_a_path_is_refused() {
        let c = config(&[("ROWBENCH_PUBLIC_URL", "https://Rowbench.Example.com/")]).expect("valid");
        let url = c.access.public_url.expect("set");
        assert_eq!(url.origin, "https://rowbench.example.com");
        assert_eq!(url.host.to_string(), "rowbench.example.com:443");
        assert!(url.https);
        let port: PublicUrl = "http://10.0.0.5:8080".parse().expect("valid");
        assert_eq!(port.origin, "http://10.0.0.5:8080");
        assert!(!port.https);
        for bad in [
            "rowbench.example.com",
            "https://x.com/rowbench",
            "ftp://x.com",
        ] {
            assert!(
                matches!(
                    config(&[("ROWBENCH_PUBLIC_URL", bad)]),
                    Err(ConfigError::PublicUrl(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_data_dir_moves_the_default_database_with_it() {
        let c = config(&[("ROWBENCH_DATA_DIR", "/var/lib/rowbench")]).expect("valid");
        assert_eq!(c.database_url, "sqlite:///var/lib/rowbench/rowbench.db");
        assert!(c.database_in_data_dir());
    }

    #[test]
    fn an_explicit_database_url_wins_over_the_data_dir() {
        let c = config(&[("DATABASE_URL", "sqlite://elsewhere.db")]).expect("valid");
        assert_eq!(c.database_url, "sqlite://elsewhere.db");
        assert!(!c.database_in_data_dir());
    }

    #[test]
    fn a_bad_address_is_reported_with_its_variable_and_value() {
        let err = config(&[("LEPTOS_SITE_ADDR", "localhost")]).expect_err("not a socket address");
        assert_eq!(err, ConfigError::Address("localhost".into()));
        assert!(err.to_string().contains("LEPTOS_SITE_ADDR"));
    }

    #[test]
    fn a_postgres_url_is_taken_and_another_engine_is_refused_clearly() {
        let c = config(&[("DATABASE_URL", "postgres://u:secret@db/rowbench")]).expect("valid");
        assert_eq!(c.database_url, "postgres://u:secret@db/rowbench");
        assert!(!c.database_in_data_dir());
        let err =
            config(&[("DATABASE_URL", "mysql://u:secret@db/rowbench")]).expect_err("unsupported");
        assert_eq!(err, ConfigError::UnsupportedDatabase("mysql".into()));
        assert!(
            !err.to_string().contains("secret"),
            "the password never reaches a message"
        );
    }

    #[test]
    fn upload_limits_can_be_lowered_and_must_be_positive_numbers() {
        let c = config(&[
            ("ROWBENCH_MAX_UPLOAD_BYTES", "1000"),
            ("ROWBENCH_MAX_COLUMNS", "3"),
        ])
        .expect("valid");
        assert_eq!(c.limits.max_bytes, 1000);
        assert_eq!(c.limits.max_columns, 3);
        assert_eq!(
            config(&[("ROWBENCH_MAX_FIELD_BYTES", "0")]),
            Err(ConfigError::Number("ROWBENCH_MAX_FIELD_BYTES", "0".into()))
        );
        assert_eq!(
            config(&[("ROWBENCH_MAX_COLUMNS", "many")]),
            Err(ConfigError::Number("ROWBENCH_MAX_COLUMNS", "many".into()))
        );
    }

    #[test]
    fn the_upload_idle_time_is_30_s_unless_set_in_whole_seconds() {
        assert_eq!(
            config(&[]).expect("defaults").upload_idle,
            Duration::from_secs(30)
        );
        let set = config(&[("ROWBENCH_UPLOAD_IDLE_SECS", "5")]).expect("valid");
        assert_eq!(set.upload_idle, Duration::from_secs(5));
        assert_eq!(
            config(&[("ROWBENCH_UPLOAD_IDLE_SECS", "0")]),
            Err(ConfigError::Number("ROWBENCH_UPLOAD_IDLE_SECS", "0".into()))
        );
    }

    #[test]
    fn the_lease_and_in_flight_cap_reach_the_worker_with_a_heartbeat_of_a_third_of_the_lease() {
        let defaults = config(&[])
            .expect("defaults are valid")
            .queue
            .worker_config();
        assert_eq!(defaults.lease, Duration::from_secs(15));
        assert_eq!(defaults.heartbeat, Duration::from_secs(5));
        assert_eq!(defaults.max_in_flight, 256);
        let set = config(&[
            ("ROWBENCH_LEASE_MS", "1500"),
            ("ROWBENCH_MAX_IN_FLIGHT", "8"),
        ])
        .expect("valid")
        .queue
        .worker_config();
        assert_eq!(set.lease, Duration::from_millis(1500));
        assert_eq!(set.heartbeat, Duration::from_millis(500));
        assert_eq!(set.max_in_flight, 8);
        let err = config(&[("ROWBENCH_LEASE_MS", "1.5s")]).expect_err("not a number");
        assert_eq!(err, ConfigError::Number("ROWBENCH_LEASE_MS", "1.5s".into()));
        assert!(err.to_string().contains("ROWBENCH_LEASE_MS"));
        assert_eq!(
            config(&[("ROWBENCH_MAX_IN_FLIGHT", "0")]),
            Err(ConfigError::Number("ROWBENCH_MAX_IN_FLIGHT", "0".into()))
        );
    }

    #[test]
    fn allowed_hosts_are_host_or_host_and_port_names_and_anything_else_is_refused() {
        assert_eq!(config(&[]).expect("defaults").allowed_hosts, vec![]);
        let c = config(&[(
            "ROWBENCH_ALLOWED_HOSTS",
            " Rowbench.LAN , 192.168.1.20:3000,[::1]:8080,",
        )])
        .expect("valid");
        let shown: Vec<String> = c.allowed_hosts.iter().map(|h| h.to_string()).collect();
        assert_eq!(shown, ["rowbench.lan", "192.168.1.20:3000", "[::1]:8080"]);
        for bad in [
            "http://rowbench.lan",
            "rowbench.lan/app",
            "*.lan",
            "rowbench.lan:0",
            "rowbench.lan:99999",
            "rowbench.lan:",
            "[nope]:3000",
            "two words",
        ] {
            let err = config(&[("ROWBENCH_ALLOWED_HOSTS", bad)]).expect_err(bad);
            assert_eq!(err, ConfigError::AllowedHost(bad.into()));
            assert!(err.to_string().contains("ROWBENCH_ALLOWED_HOSTS"), "{err}");
        }
    }

    #[test]
    fn a_host_without_a_port_matches_any_port_and_a_default_port_matches_no_port() {
        let host = |s: &str| s.parse::<AllowedHost>().expect(s);
        assert!(host("rowbench.lan").matches(&host("rowbench.lan:3000")));
        assert!(host("rowbench.lan").matches(&host("ROWBENCH.lan")));
        assert!(host("rowbench.lan:3000").matches(&host("rowbench.lan:3000")));
        assert!(!host("rowbench.lan:3000").matches(&host("rowbench.lan:3001")));
        assert!(!host("rowbench.lan:3000").matches(&host("rowbench.lan")));
        assert!(host("rowbench.lan:443").matches(&host("rowbench.lan")));
        assert!(!host("rowbench.lan").matches(&host("rowbench.lan.evil.example")));
    }

    #[test]
    fn an_empty_variable_is_an_error_not_a_silent_default() {
        assert_eq!(
            config(&[("ROWBENCH_DATA_DIR", " ")]),
            Err(ConfigError::Empty("ROWBENCH_DATA_DIR"))
        );
    }
}

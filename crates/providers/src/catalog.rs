//! Which providers and models are available: built from environment variables and an optional TOML providers file, with keys kept secret.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::anthropic::{self, Anthropic};
use crate::demo::{DEMO_LABEL, DEMO_PROVIDER_ID, DemoProvider};
use crate::gemini::{self, Gemini};
use crate::openai::{self, OpenAiCompatible};
use crate::prices;
use crate::types::{Provider, StructuredOutput};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Local models on modest hardware can take minutes for one answer.
pub const DEFAULT_LOCAL_TIMEOUT: Duration = Duration::from_secs(300);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const OLLAMA_DEFAULT_PORT: u16 = 11434;

/// An API key. Prints as `[redacted]` and cannot be serialized, so it cannot leak through
/// logs, `Debug` output or JSON.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Surrounding whitespace is dropped: keys pasted into `.env` files often carry some.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into().trim().to_owned())
    }

    /// The key itself, for the one place it belongs: a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProviderKind {
    /// OpenAI chat completions, also spoken by Ollama, vLLM, LM Studio, OpenRouter and others.
    #[serde(
        rename = "openai",
        alias = "openai_compatible",
        alias = "openai-compatible"
    )]
    OpenAi,
    #[serde(rename = "anthropic")]
    Anthropic,
    #[serde(rename = "gemini")]
    Gemini,
    /// The offline demo: synthetic answers, no network.
    #[serde(rename = "demo")]
    Demo,
}

impl ProviderKind {
    /// The id of the built-in provider speaking this format at its default address.
    fn builtin_id(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Demo => DEMO_PROVIDER_ID,
        }
    }

    fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => openai::DEFAULT_BASE_URL,
            ProviderKind::Anthropic => anthropic::DEFAULT_BASE_URL,
            ProviderKind::Gemini => gemini::DEFAULT_BASE_URL,
            ProviderKind::Demo => "",
        }
    }
}

/// A model a provider offers, with its price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub id: String,
    pub label: String,
    pub input_usd_per_mtok: f64,
    pub output_usd_per_mtok: f64,
    pub structured: StructuredOutput,
}

/// Limits the provider imposes on this account; the queue paces itself by them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    #[serde(default)]
    pub tokens_per_minute: Option<u32>,
}

/// One configured provider.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    pub id: String,
    pub label: String,
    pub kind: ProviderKind,
    /// Empty for the demo.
    pub base_url: String,
    pub api_key: Option<Secret>,
    pub models: Vec<ModelInfo>,
    pub rate_limit: RateLimit,
    /// For a whole call, from connecting to the last byte of the answer.
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

impl ProviderConfig {
    /// A client for this provider; `None` only when the HTTP client cannot be built (logged).
    pub fn connect(&self) -> Option<Arc<dyn Provider>> {
        match http_client(self.timeout, self.connect_timeout) {
            Ok(http) => Some(self.connect_with(http)),
            Err(error) => {
                tracing::error!(provider = %self.id, %error, "cannot build the HTTP client");
                None
            }
        }
    }

    /// A client for this provider over `http` (the demo ignores it), e.g. one with a shorter
    /// timeout for a connection check.
    pub fn connect_with(&self, http: reqwest::Client) -> Arc<dyn Provider> {
        let (base, key) = (self.base_url.clone(), self.api_key.clone());
        match self.kind {
            ProviderKind::Demo => Arc::new(DemoProvider::default()),
            ProviderKind::OpenAi => Arc::new(OpenAiCompatible::new(base, key, http)),
            ProviderKind::Anthropic => Arc::new(Anthropic::new(base, key, http)),
            ProviderKind::Gemini => Arc::new(Gemini::new(base, key, http)),
        }
    }

    fn public(&self) -> PublicProvider {
        PublicProvider {
            id: self.id.clone(),
            label: self.label.clone(),
            kind: self.kind,
            base_url: without_credentials(&self.base_url),
            has_key: self.api_key.is_some(),
            models: self.models.clone(),
            rate_limit: self.rate_limit,
        }
    }
}

/// The HTTP client every provider uses: bounded in time, and never following redirects, so
/// a key sent to a mistyped or hijacked base URL is not forwarded to yet another host.
pub fn http_client(
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("rowbench/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// What the browser may know about a provider: everything but the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicProvider {
    pub id: String,
    pub label: String,
    pub kind: ProviderKind,
    pub base_url: String,
    pub has_key: bool,
    pub models: Vec<ModelInfo>,
    pub rate_limit: RateLimit,
}

/// A configuration mistake, named precisely enough to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("line {line}: {message}")]
    Toml { line: usize, message: String },
    #[error("line {line}, `{field}`: {message}")]
    Invalid {
        line: usize,
        field: String,
        message: String,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("cannot read the providers file {path}: {message}")]
    File { path: String, message: String },
    #[error("providers file {path}, {source}")]
    InFile {
        path: String,
        source: Box<ConfigError>,
    },
}

/// All configured providers, the demo first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    pub providers: Vec<ProviderConfig>,
}

impl Catalog {
    /// The catalog the environment describes (see the crate docs for the variables).
    ///
    /// `vars` looks a variable up, e.g. `&|name| std::env::var(name).ok()`; tests pass a map.
    pub fn from_env(vars: &dyn Fn(&str) -> Option<String>) -> Result<Catalog, ConfigError> {
        let var = |name: &str| {
            vars(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut providers = vec![demo_config()];

        if let Some(key) = var("OPENAI_API_KEY") {
            let base = env_url(&var, "OPENAI_BASE_URL", openai::DEFAULT_BASE_URL)?;
            providers.push(builtin(BuiltIn::OpenAi, base, Some(Secret::new(key))));
        }
        if let Some(key) = var("ANTHROPIC_API_KEY") {
            let base = env_url(&var, "ANTHROPIC_BASE_URL", anthropic::DEFAULT_BASE_URL)?;
            providers.push(builtin(BuiltIn::Anthropic, base, Some(Secret::new(key))));
        }
        if let Some(key) = var("GEMINI_API_KEY") {
            let base = env_url(&var, "GEMINI_BASE_URL", gemini::DEFAULT_BASE_URL)?;
            providers.push(builtin(BuiltIn::Gemini, base, Some(Secret::new(key))));
        }
        if let Some(host) = var("OLLAMA_HOST") {
            let base = ollama_base_url(&host).map_err(|message| ConfigError::Env {
                var: "OLLAMA_HOST".into(),
                message,
            })?;
            let mut ollama = builtin(BuiltIn::Ollama, base, None);
            if let Some(names) = var("OLLAMA_MODELS") {
                ollama.models = names
                    .split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .map(|name| ModelInfo {
                        id: name.to_owned(),
                        label: format!("{name} (local)"),
                        input_usd_per_mtok: 0.0,
                        output_usd_per_mtok: 0.0,
                        structured: StructuredOutput::Native,
                    })
                    .collect();
            }
            providers.push(ollama);
        }

        if let Some(path) = var("ROWBENCH_PROVIDERS_FILE") {
            let text = std::fs::read_to_string(&path).map_err(|error| ConfigError::File {
                path: path.clone(),
                message: error.to_string(),
            })?;
            let from_file =
                Catalog::from_toml(&text, vars).map_err(|error| ConfigError::InFile {
                    path: path.clone(),
                    source: Box::new(error),
                })?;
            for provider in from_file {
                match providers
                    .iter_mut()
                    .find(|existing| existing.id == provider.id)
                {
                    Some(existing) => *existing = provider,
                    None => providers.push(provider),
                }
            }
        }
        Ok(Catalog { providers })
    }

    /// The providers a TOML providers file declares (format in the crate docs). Errors name
    /// the line and the field.
    pub fn from_toml(
        text: &str,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<ProviderConfig>, ConfigError> {
        let file: RawFile = toml::from_str(text).map_err(|error| ConfigError::Toml {
            line: error.span().map_or(1, |span| line_of(text, span.start)),
            message: error.message().trim().to_owned(),
        })?;
        let mut providers: Vec<ProviderConfig> = Vec::new();
        for raw in file.providers {
            let line = line_of(text, raw.id.span().start);
            if providers.iter().any(|p| p.id == *raw.id.get_ref()) {
                return Err(invalid(
                    line,
                    "id",
                    format!("provider `{}` is declared twice", raw.id.get_ref()),
                ));
            }
            providers.push(raw.into_config(text, vars)?);
        }
        Ok(providers)
    }

    pub fn provider(&self, id: &str) -> Option<&ProviderConfig> {
        self.providers.iter().find(|provider| provider.id == id)
    }

    pub fn model(&self, provider: &str, model: &str) -> Option<&ModelInfo> {
        self.provider(provider)?
            .models
            .iter()
            .find(|info| info.id == model)
    }

    /// A client for provider `id`; `None` for an unknown id.
    pub fn connect(&self, id: &str) -> Option<Arc<dyn Provider>> {
        self.provider(id)?.connect()
    }

    /// The catalog as the browser may see it: no keys, only whether one is set.
    pub fn public(&self) -> Vec<PublicProvider> {
        self.providers.iter().map(ProviderConfig::public).collect()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum BuiltIn {
    OpenAi,
    Anthropic,
    Gemini,
    Ollama,
    Demo,
}

impl BuiltIn {
    fn from_id(id: &str) -> Option<BuiltIn> {
        Some(match id {
            "openai" => BuiltIn::OpenAi,
            "anthropic" => BuiltIn::Anthropic,
            "gemini" => BuiltIn::Gemini,
            "ollama" => BuiltIn::Ollama,
            id if id == DEMO_PROVIDER_ID => BuiltIn::Demo,
            _ => return None,
        })
    }

    fn id(self) -> &'static str {
        match self {
            BuiltIn::OpenAi => "openai",
            BuiltIn::Anthropic => "anthropic",
            BuiltIn::Gemini => "gemini",
            BuiltIn::Ollama => "ollama",
            BuiltIn::Demo => DEMO_PROVIDER_ID,
        }
    }

    fn label(self) -> &'static str {
        match self {
            BuiltIn::OpenAi => "OpenAI",
            BuiltIn::Anthropic => "Anthropic",
            BuiltIn::Gemini => "Google Gemini",
            BuiltIn::Ollama => "Ollama (local)",
            BuiltIn::Demo => DEMO_LABEL,
        }
    }

    fn kind(self) -> ProviderKind {
        match self {
            BuiltIn::OpenAi | BuiltIn::Ollama => ProviderKind::OpenAi,
            BuiltIn::Anthropic => ProviderKind::Anthropic,
            BuiltIn::Gemini => ProviderKind::Gemini,
            BuiltIn::Demo => ProviderKind::Demo,
        }
    }

    fn base_url(self) -> String {
        match self {
            BuiltIn::Ollama => format!("http://127.0.0.1:{OLLAMA_DEFAULT_PORT}/v1"),
            other => other.kind().default_base_url().to_owned(),
        }
    }

    fn key_var(self) -> Option<&'static str> {
        match self {
            BuiltIn::OpenAi => Some("OPENAI_API_KEY"),
            BuiltIn::Anthropic => Some("ANTHROPIC_API_KEY"),
            BuiltIn::Gemini => Some("GEMINI_API_KEY"),
            BuiltIn::Ollama | BuiltIn::Demo => None,
        }
    }

    fn timeout(self) -> Duration {
        match self {
            BuiltIn::Ollama => DEFAULT_LOCAL_TIMEOUT,
            _ => DEFAULT_TIMEOUT,
        }
    }
}

fn builtin(which: BuiltIn, base_url: String, api_key: Option<Secret>) -> ProviderConfig {
    ProviderConfig {
        id: which.id().to_owned(),
        label: which.label().to_owned(),
        kind: which.kind(),
        base_url,
        api_key,
        models: prices::builtin_models(which.id()),
        rate_limit: RateLimit::default(),
        timeout: which.timeout(),
        connect_timeout: DEFAULT_CONNECT_TIMEOUT,
    }
}

fn demo_config() -> ProviderConfig {
    builtin(BuiltIn::Demo, String::new(), None)
}

fn env_url(
    var: &dyn Fn(&str) -> Option<String>,
    name: &str,
    default: &str,
) -> Result<String, ConfigError> {
    match var(name) {
        None => Ok(default.to_owned()),
        Some(value) => check_url(&value).map_err(|message| ConfigError::Env {
            var: name.to_owned(),
            message,
        }),
    }
}

/// An `http(s)` URL with a host, without its trailing slash.
fn check_url(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value.trim())
        .map_err(|error| format!("`{value}` is not a URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{value}` is not an http(s) URL"));
    }
    Ok(value.trim().trim_end_matches('/').to_owned())
}

/// The OpenAI-compatible base URL of an Ollama server, read the way Ollama reads
/// `OLLAMA_HOST`: `host`, `host:port` or a full URL; port 11434 unless a scheme or port is
/// given; a bind-all address means this machine.
pub fn ollama_base_url(host: &str) -> Result<String, String> {
    let host = host.trim().trim_end_matches('/');
    let has_scheme = host.contains("://");
    let text = if has_scheme {
        host.to_owned()
    } else {
        format!("http://{host}")
    };
    let mut url = url::Url::parse(&text)
        .map_err(|error| format!("`{host}` is not a host or URL: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{host}` is not an http(s) address"));
    }
    if !has_scheme && url.port().is_none() {
        url.set_port(Some(OLLAMA_DEFAULT_PORT))
            .map_err(|()| format!("`{host}` cannot take a port"))?;
    }
    if matches!(url.host_str(), Some("0.0.0.0")) {
        url.set_host(Some("127.0.0.1"))
            .map_err(|error| error.to_string())?;
    } else if matches!(url.host_str(), Some("[::]")) {
        url.set_host(Some("[::1]"))
            .map_err(|error| error.to_string())?;
    }
    let base = url.as_str().trim_end_matches('/');
    Ok(if base.ends_with("/v1") {
        base.to_owned()
    } else {
        format!("{base}/v1")
    })
}

/// A URL with any `user:password@` and query removed; either may hold a credential.
pub(crate) fn without_credentials(base_url: &str) -> String {
    let Ok(mut url) = url::Url::parse(base_url) else {
        return base_url.to_owned();
    };
    if url.username().is_empty() && url.password().is_none() && url.query().is_none() {
        return base_url.to_owned();
    }
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.as_str().trim_end_matches('/').to_owned()
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

fn invalid(line: usize, field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        line,
        field: field.to_owned(),
        message: message.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    providers: Vec<RawProvider>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    id: Spanned<String>,
    label: Option<String>,
    kind: Option<ProviderKind>,
    base_url: Option<Spanned<String>>,
    api_key_env: Option<Spanned<String>>,
    api_key: Option<Spanned<String>>,
    structured: Option<StructuredOutput>,
    timeout_secs: Option<Spanned<f64>>,
    connect_timeout_secs: Option<Spanned<f64>>,
    #[serde(default)]
    rate_limit: RateLimit,
    models: Option<Vec<RawModel>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    id: Spanned<String>,
    label: Option<String>,
    input_usd_per_mtok: Option<Spanned<f64>>,
    output_usd_per_mtok: Option<Spanned<f64>>,
    structured: Option<StructuredOutput>,
}

impl RawProvider {
    fn into_config(
        self,
        text: &str,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ProviderConfig, ConfigError> {
        let at = |span: Range<usize>| line_of(text, span.start);
        let id_line = at(self.id.span());
        let id = self.id.into_inner();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(invalid(
                id_line,
                "id",
                format!("`{id}` must be non-empty letters, digits, `-`, `_` or `.`"),
            ));
        }
        let known = BuiltIn::from_id(&id);
        let kind = match (self.kind, known) {
            (Some(kind), _) => kind,
            (None, Some(known)) => known.kind(),
            (None, None) => {
                return Err(invalid(
                    id_line,
                    "kind",
                    format!("provider `{id}` needs a kind: openai, anthropic, gemini or demo"),
                ));
            }
        };
        // A built-in id keeps its built-in defaults only while it keeps its built-in kind.
        let known = known.filter(|known| known.kind() == kind);

        let default_base =
            known.map_or_else(|| kind.default_base_url().to_owned(), BuiltIn::base_url);
        let base_url = match self.base_url {
            _ if kind == ProviderKind::Demo => String::new(),
            Some(base) => {
                let line = at(base.span());
                check_url(base.get_ref()).map_err(|message| invalid(line, "base_url", message))?
            }
            None => default_base.clone(),
        };

        let api_key = match (self.api_key_env, self.api_key) {
            (Some(env), Some(_)) => {
                return Err(invalid(
                    at(env.span()),
                    "api_key_env",
                    "give either api_key_env or api_key, not both",
                ));
            }
            (Some(env), None) => key_from_env(&id, env.get_ref(), vars),
            (None, Some(literal)) => {
                let key = Secret::new(literal.into_inner());
                (!key.expose().is_empty()).then_some(key)
            }
            (None, None) => known
                .and_then(BuiltIn::key_var)
                .and_then(|name| key_from_env(&id, name, vars)),
        };

        let provider_structured = self.structured;
        let models = match self.models {
            Some(raw_models) => {
                let mut models: Vec<ModelInfo> = Vec::new();
                for raw in raw_models {
                    let line = at(raw.id.span());
                    let model = raw.into_info(text, provider_structured)?;
                    if models.iter().any(|m| m.id == model.id) {
                        return Err(invalid(
                            line,
                            "models.id",
                            format!("model `{}` is listed twice", model.id),
                        ));
                    }
                    models.push(model);
                }
                models
            }
            None => {
                let builtin_id = match known {
                    Some(known) => Some(known.id()),
                    // Another account at a built-in service (say "openai-team") gets its models.
                    None if base_url == kind.default_base_url() => Some(kind.builtin_id()),
                    None => None,
                };
                let mut models = builtin_id.map(prices::builtin_models).unwrap_or_default();
                if let Some(structured) = provider_structured {
                    models
                        .iter_mut()
                        .for_each(|model| model.structured = structured);
                }
                models
            }
        };
        if models.is_empty() {
            return Err(invalid(
                id_line,
                "models",
                format!("provider `{id}` needs at least one [[providers.models]] entry"),
            ));
        }

        let seconds = |value: Option<Spanned<f64>>, field: &str, default: Duration| match value {
            None => Ok(default),
            Some(value) => {
                let secs = *value.get_ref();
                if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 {
                    Ok(Duration::from_secs_f64(secs))
                } else {
                    Err(invalid(
                        at(value.span()),
                        field,
                        format!("{secs} is not a number of seconds between 0 and 86400"),
                    ))
                }
            }
        };
        let default_timeout = known.map_or(DEFAULT_TIMEOUT, BuiltIn::timeout);
        Ok(ProviderConfig {
            label: self
                .label
                .or_else(|| known.map(|known| known.label().to_owned()))
                .unwrap_or_else(|| id.clone()),
            id,
            kind,
            base_url,
            api_key,
            models,
            rate_limit: self.rate_limit,
            timeout: seconds(self.timeout_secs, "timeout_secs", default_timeout)?,
            connect_timeout: seconds(
                self.connect_timeout_secs,
                "connect_timeout_secs",
                DEFAULT_CONNECT_TIMEOUT,
            )?,
        })
    }
}

fn key_from_env(
    provider: &str,
    name: &str,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Option<Secret> {
    let key = vars(name)
        .map(Secret::new)
        .filter(|key| !key.expose().is_empty());
    if key.is_none() {
        tracing::warn!(
            provider,
            var = name,
            "the API key variable is not set; calls will be refused"
        );
    }
    key
}

impl RawModel {
    fn into_info(
        self,
        text: &str,
        provider_structured: Option<StructuredOutput>,
    ) -> Result<ModelInfo, ConfigError> {
        let id_line = line_of(text, self.id.span().start);
        let id = self.id.into_inner();
        if id.trim().is_empty() {
            return Err(invalid(id_line, "models.id", "a model id cannot be empty"));
        }
        let known = prices::lookup(&id);
        let price = |value: Option<Spanned<f64>>, field: &str, builtin: Option<f64>| {
            match value {
            Some(value) => {
                let usd = *value.get_ref();
                if usd.is_finite() && usd >= 0.0 {
                    Ok(usd)
                } else {
                    Err(invalid(line_of(text, value.span().start), field, format!("{usd} is not a price in USD")))
                }
            }
            None => builtin.ok_or_else(|| {
                invalid(
                    id_line,
                    field,
                    format!("model `{id}` has no built-in price: give input_usd_per_mtok and output_usd_per_mtok (0 for free)"),
                )
            }),
        }
        };
        let input = price(
            self.input_usd_per_mtok,
            "models.input_usd_per_mtok",
            known.as_ref().map(|k| k.input_usd_per_mtok),
        )?;
        let output = price(
            self.output_usd_per_mtok,
            "models.output_usd_per_mtok",
            known.as_ref().map(|k| k.output_usd_per_mtok),
        )?;
        Ok(ModelInfo {
            label: self
                .label
                .or_else(|| known.as_ref().map(|k| k.label.clone()))
                .unwrap_or_else(|| id.clone()),
            structured: self
                .structured
                .or(provider_structured)
                .or_else(|| known.as_ref().map(|k| k.structured))
                .unwrap_or_default(),
            id,
            input_usd_per_mtok: input,
            output_usd_per_mtok: output,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    fn ids(catalog: &Catalog) -> Vec<&str> {
        catalog.providers.iter().map(|p| p.id.as_str()).collect()
    }

    #[test]
    fn an_empty_environment_offers_only_the_demo() {
        let catalog = Catalog::from_env(&env(&[])).expect("valid");
        assert_eq!(ids(&catalog), ["demo"]);
        let demo = &catalog.providers[0];
        assert_eq!(demo.kind, ProviderKind::Demo);
        assert_eq!(demo.label, "Offline demo (synthetic answers)");
        assert!(
            demo.models
                .iter()
                .all(|m| m.input_usd_per_mtok == 0.0 && m.output_usd_per_mtok == 0.0)
        );
    }

    #[test]
    fn keys_in_the_environment_add_their_providers_after_the_demo() {
        let catalog = Catalog::from_env(&env(&[
            ("OPENAI_API_KEY", "sk-one"),
            ("ANTHROPIC_API_KEY", " sk-ant \n"),
            ("GEMINI_API_KEY", "gm"),
            ("OLLAMA_HOST", "127.0.0.1:11434"),
        ]))
        .expect("valid");
        assert_eq!(
            ids(&catalog),
            ["demo", "openai", "anthropic", "gemini", "ollama"]
        );
        let anthropic = catalog.provider("anthropic").expect("anthropic");
        assert_eq!(
            anthropic.api_key.as_ref().map(Secret::expose),
            Some("sk-ant")
        );
        assert_eq!(anthropic.base_url, "https://api.anthropic.com");
        let ollama = catalog.provider("ollama").expect("ollama");
        assert_eq!(ollama.base_url, "http://127.0.0.1:11434/v1");
        assert!(ollama.api_key.is_none());
        assert!(ollama.models.iter().all(|m| m.input_usd_per_mtok == 0.0));
        assert!(catalog.model("openai", "gpt-4o-mini").is_some());
        assert!(catalog.model("gemini", "gemini-2.5-flash").is_some());
        assert!(catalog.model("openai", "gemini-2.5-flash").is_none());
    }

    #[test]
    fn an_empty_key_variable_adds_nothing() {
        let catalog = Catalog::from_env(&env(&[("OPENAI_API_KEY", "  ")])).expect("valid");
        assert_eq!(ids(&catalog), ["demo"]);
    }

    #[test]
    fn a_base_url_variable_moves_the_provider() {
        let catalog = Catalog::from_env(&env(&[
            ("OPENAI_API_KEY", "sk"),
            ("OPENAI_BASE_URL", "https://proxy.example/v1/"),
        ]))
        .expect("valid");
        assert_eq!(catalog.providers[1].base_url, "https://proxy.example/v1");
    }

    #[test]
    fn a_bad_base_url_variable_names_the_variable() {
        let error = Catalog::from_env(&env(&[
            ("OPENAI_API_KEY", "sk"),
            ("OPENAI_BASE_URL", "not a url"),
        ]))
        .expect_err("invalid");
        assert!(error.to_string().contains("OPENAI_BASE_URL"), "{error}");
    }

    #[test]
    fn ollama_hosts_are_read_like_ollama_reads_them() {
        let cases = [
            ("localhost", "http://localhost:11434/v1"),
            ("0.0.0.0", "http://127.0.0.1:11434/v1"),
            ("0.0.0.0:9000", "http://127.0.0.1:9000/v1"),
            ("http://gpu-box:8080", "http://gpu-box:8080/v1"),
            ("https://ollama.example", "https://ollama.example/v1"),
            ("http://gpu-box:8080/v1/", "http://gpu-box:8080/v1"),
        ];
        for (host, expected) in cases {
            assert_eq!(ollama_base_url(host).as_deref(), Ok(expected), "{host}");
        }
        assert!(ollama_base_url("ftp://x").is_err());
    }

    #[test]
    fn ollama_models_can_be_named_in_the_environment() {
        let catalog = Catalog::from_env(&env(&[
            ("OLLAMA_HOST", "localhost"),
            ("OLLAMA_MODELS", "phi4, mistral ,"),
        ]))
        .expect("valid");
        let models: Vec<&str> = catalog.providers[1]
            .models
            .iter()
            .map(|m| m.id.as_str())
            .collect();
        assert_eq!(models, ["phi4", "mistral"]);
    }

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("sk-very-secret");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        let catalog =
            Catalog::from_env(&env(&[("OPENAI_API_KEY", "sk-very-secret")])).expect("valid");
        assert!(!format!("{catalog:?}").contains("sk-very-secret"));
        assert!(!format!("{catalog:#?}").contains("sk-very-secret"));
    }

    #[test]
    fn the_public_view_has_no_keys_only_whether_one_is_set() {
        let catalog = Catalog::from_env(&env(&[
            ("OPENAI_API_KEY", "sk-very-secret"),
            ("OLLAMA_HOST", "localhost"),
        ]))
        .expect("valid");
        let public = catalog.public();
        let json = serde_json::to_string(&public).expect("serializable");
        assert!(!json.contains("sk-very-secret"));
        assert!(!json.contains("api_key"));
        let has_key: Vec<(String, bool)> =
            public.iter().map(|p| (p.id.clone(), p.has_key)).collect();
        assert_eq!(
            has_key,
            [
                ("demo".to_owned(), false),
                ("openai".to_owned(), true),
                ("ollama".to_owned(), false)
            ]
        );
        assert_eq!(public[1].kind, ProviderKind::OpenAi);
        assert!(json.contains("\"kind\":\"openai\""));
        assert!(
            public[1]
                .models
                .iter()
                .any(|m| m.id == "gpt-4o" && m.input_usd_per_mtok > 0.0)
        );
    }

    #[test]
    fn credentials_in_a_base_url_are_not_made_public() {
        let config = ProviderConfig {
            base_url: "https://user:pass@proxy.example/v1?key=abc".into(),
            ..builtin(BuiltIn::OpenAi, String::new(), None)
        };
        let public = config.public();
        assert_eq!(public.base_url, "https://proxy.example/v1");
    }

    #[test]
    fn connect_builds_every_kind_and_refuses_unknown_ids() {
        let catalog = Catalog::from_env(&env(&[
            ("OPENAI_API_KEY", "a"),
            ("ANTHROPIC_API_KEY", "b"),
            ("GEMINI_API_KEY", "c"),
        ]))
        .expect("valid");
        for id in ["demo", "openai", "anthropic", "gemini"] {
            assert!(catalog.connect(id).is_some(), "{id}");
        }
        assert!(catalog.connect("nope").is_none());
    }

    fn doc_example() -> String {
        let lib = include_str!("lib.rs");
        let start = lib
            .find("//! ```toml")
            .expect("the crate docs hold a TOML example");
        lib[start..]
            .lines()
            .skip(1)
            .take_while(|line| !line.starts_with("//! ```"))
            .map(|line| {
                line.strip_prefix("//! ")
                    .or_else(|| line.strip_prefix("//!"))
                    .unwrap_or(line)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_documented_example_file_is_valid() {
        let vars = env(&[("OPENROUTER_API_KEY", "or-key"), ("OPENAI_API_KEY", "sk-x")]);
        let providers =
            Catalog::from_toml(&doc_example(), &vars).expect("the documented example parses");
        let ids: Vec<&str> = providers.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["openrouter", "openai", "lmstudio"]);

        let router = &providers[0];
        assert_eq!(router.kind, ProviderKind::OpenAi);
        assert_eq!(router.api_key.as_ref().map(Secret::expose), Some("or-key"));
        assert_eq!(router.rate_limit.requests_per_minute, Some(60));
        assert_eq!(router.timeout, Duration::from_secs(120));
        assert_eq!(router.models[0].label, "GPT-4o mini (OpenRouter)");

        let openai = &providers[1];
        assert_eq!(openai.base_url, openai::DEFAULT_BASE_URL);
        assert_eq!(
            openai.api_key.as_ref().map(Secret::expose),
            Some("sk-x"),
            "built-in key variable"
        );
        assert_eq!(openai.label, "OpenAI");
        assert_eq!(openai.models.len(), 1);
        assert_eq!(openai.models[0].label, "GPT-4o mini");

        let studio = &providers[2];
        assert_eq!(studio.models[0].structured, StructuredOutput::Instructions);
        assert_eq!(studio.models[0].input_usd_per_mtok, 0.0);
    }

    #[test]
    fn a_file_provider_replaces_the_environment_one_with_the_same_id() {
        let dir =
            std::env::temp_dir().join(format!("rowbench-providers-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("providers.toml");
        std::fs::write(
            &path,
            "[[providers]]\nid = \"openai\"\n[[providers.models]]\nid = \"gpt-4o\"\ninput_usd_per_mtok = 1.0\noutput_usd_per_mtok = 2.0\n\n[[providers]]\nid = \"local\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:8000/v1\"\nmodels = [{ id = \"m\", input_usd_per_mtok = 0, output_usd_per_mtok = 0 }]\n",
        )
        .expect("write");
        let path_text = path.to_string_lossy().into_owned();
        let catalog = Catalog::from_env(&env(&[
            ("OPENAI_API_KEY", "sk-env"),
            ("ROWBENCH_PROVIDERS_FILE", &path_text),
        ]))
        .expect("valid");
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert_eq!(ids(&catalog), ["demo", "openai", "local"]);
        let openai = catalog.provider("openai").expect("openai");
        assert_eq!(openai.api_key.as_ref().map(Secret::expose), Some("sk-env"));
        let model = catalog.model("openai", "gpt-4o").expect("gpt-4o");
        assert_eq!(
            (model.input_usd_per_mtok, model.output_usd_per_mtok),
            (1.0, 2.0)
        );
        assert!(catalog.model("openai", "gpt-4o-mini").is_none());
    }

    #[test]
    fn a_missing_providers_file_is_an_error_naming_it() {
        let error = Catalog::from_env(&env(&[(
            "ROWBENCH_PROVIDERS_FILE",
            "/nonexistent/providers.toml",
        )]))
        .expect_err("missing file");
        assert!(
            error.to_string().contains("/nonexistent/providers.toml"),
            "{error}"
        );
    }

    #[test]
    fn errors_inside_the_file_name_the_file_and_line() {
        let dir =
            std::env::temp_dir().join(format!("rowbench-providers-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("bad.toml");
        std::fs::write(
            &path,
            "[[providers]]\nid = \"x\"\nkind = \"openai\"\nbase_url = \"nope\"\n",
        )
        .expect("write");
        let path_text = path.to_string_lossy().into_owned();
        let error = Catalog::from_env(&env(&[("ROWBENCH_PROVIDERS_FILE", &path_text)]))
            .expect_err("bad url");
        std::fs::remove_dir_all(&dir).expect("cleanup");
        let text = error.to_string();
        assert!(
            text.contains("bad.toml") && text.contains("line 4") && text.contains("base_url"),
            "{text}"
        );
    }

    fn toml_error(text: &str) -> ConfigError {
        Catalog::from_toml(text, &env(&[])).expect_err("the file is invalid")
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let error = toml_error("[[providers]]\nid = \"x\"\nkind = openai\n");
        assert!(
            matches!(error, ConfigError::Toml { line: 3, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let error = toml_error("[[providers]]\nid = \"openai\"\napi_kee = \"x\"\n");
        let text = error.to_string();
        assert!(
            text.contains("line 3") && text.contains("api_kee"),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_kind_is_refused() {
        let text = toml_error("[[providers]]\nid = \"x\"\nkind = \"cohere\"\n").to_string();
        assert!(text.contains("line 3") && text.contains("cohere"), "{text}");
    }

    #[test]
    fn a_custom_provider_needs_a_kind() {
        let error = toml_error("\n[[providers]]\nid = \"mine\"\n");
        assert!(
            matches!(&error, ConfigError::Invalid { line: 3, field, .. } if field == "kind"),
            "{error:?}"
        );
    }

    #[test]
    fn a_custom_base_url_needs_models() {
        let error = toml_error(
            "[[providers]]\nid = \"mine\"\nkind = \"openai\"\nbase_url = \"http://h/v1\"\n",
        );
        assert!(
            matches!(&error, ConfigError::Invalid { line: 2, field, .. } if field == "models"),
            "{error:?}"
        );
    }

    #[test]
    fn another_account_at_a_built_in_service_gets_its_models() {
        let providers = Catalog::from_toml(
            "[[providers]]\nid = \"openai-team\"\nkind = \"openai\"\napi_key_env = \"TEAM_KEY\"\n",
            &env(&[("TEAM_KEY", "sk-team")]),
        )
        .expect("valid");
        assert!(providers[0].models.iter().any(|m| m.id == "gpt-4o-mini"));
        assert_eq!(
            providers[0].api_key.as_ref().map(Secret::expose),
            Some("sk-team")
        );
    }

    #[test]
    fn a_model_without_a_known_price_must_be_given_one() {
        let error = toml_error(
            "[[providers]]\nid = \"mine\"\nkind = \"openai\"\nbase_url = \"http://h/v1\"\n[[providers.models]]\nid = \"secret-model\"\n",
        );
        let text = error.to_string();
        assert!(
            text.contains("line 6")
                && text.contains("secret-model")
                && text.contains("input_usd_per_mtok"),
            "{text}"
        );
    }

    #[test]
    fn negative_prices_are_refused_at_their_line() {
        let error = toml_error(
            "[[providers]]\nid = \"openai\"\n[[providers.models]]\nid = \"gpt-4o\"\ninput_usd_per_mtok = -1\n",
        );
        assert!(
            matches!(&error, ConfigError::Invalid { line: 5, field, .. } if field == "models.input_usd_per_mtok"),
            "{error:?}"
        );
    }

    #[test]
    fn both_key_forms_at_once_are_refused() {
        let error =
            toml_error("[[providers]]\nid = \"openai\"\napi_key_env = \"A\"\napi_key = \"b\"\n");
        assert!(
            matches!(&error, ConfigError::Invalid { line: 3, field, .. } if field == "api_key_env"),
            "{error:?}"
        );
    }

    #[test]
    fn an_unset_key_variable_leaves_the_provider_without_a_key() {
        let providers = Catalog::from_toml(
            "[[providers]]\nid = \"anthropic\"\napi_key_env = \"NOT_SET\"\n",
            &env(&[]),
        )
        .expect("valid");
        assert!(providers[0].api_key.is_none());
        assert_eq!(providers[0].kind, ProviderKind::Anthropic);
    }

    #[test]
    fn a_literal_key_is_used() {
        let providers = Catalog::from_toml(
            "[[providers]]\nid = \"gemini\"\napi_key = \"g-123\"\n",
            &env(&[]),
        )
        .expect("valid");
        assert_eq!(
            providers[0].api_key.as_ref().map(Secret::expose),
            Some("g-123")
        );
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let error = toml_error("[[providers]]\nid = \"openai\"\n[[providers]]\nid = \"openai\"\n");
        assert!(
            matches!(&error, ConfigError::Invalid { line: 4, field, .. } if field == "id"),
            "{error:?}"
        );
    }

    #[test]
    fn duplicate_models_are_refused() {
        let error = toml_error(
            "[[providers]]\nid = \"openai\"\nmodels = [{ id = \"gpt-4o\" }, { id = \"gpt-4o\" }]\n",
        );
        assert!(
            matches!(&error, ConfigError::Invalid { line: 3, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn invalid_ids_and_timeouts_are_refused() {
        let error = toml_error("[[providers]]\nid = \"has space\"\nkind = \"demo\"\n");
        assert!(
            matches!(&error, ConfigError::Invalid { field, .. } if field == "id"),
            "{error:?}"
        );
        let error = toml_error("[[providers]]\nid = \"openai\"\ntimeout_secs = 0\n");
        assert!(
            matches!(&error, ConfigError::Invalid { line: 3, field, .. } if field == "timeout_secs"),
            "{error:?}"
        );
    }

    #[test]
    fn timeouts_and_rate_limits_are_read() {
        let providers = Catalog::from_toml(
            "[[providers]]\nid = \"ollama\"\ntimeout_secs = 2.5\nconnect_timeout_secs = 1\n[providers.rate_limit]\ntokens_per_minute = 1000\n",
            &env(&[]),
        )
        .expect("valid");
        let ollama = &providers[0];
        assert_eq!(ollama.timeout, Duration::from_millis(2500));
        assert_eq!(ollama.connect_timeout, Duration::from_secs(1));
        assert_eq!(
            ollama.rate_limit,
            RateLimit {
                requests_per_minute: None,
                tokens_per_minute: Some(1000)
            }
        );
        assert_eq!(ollama.base_url, "http://127.0.0.1:11434/v1");
        assert!(ollama.models.iter().all(|m| m.input_usd_per_mtok == 0.0));
    }

    #[test]
    fn a_provider_level_structured_mode_applies_to_built_in_models() {
        let providers = Catalog::from_toml(
            "[[providers]]\nid = \"ollama\"\nstructured = \"instructions\"\n",
            &env(&[]),
        )
        .expect("valid");
        assert!(
            providers[0]
                .models
                .iter()
                .all(|m| m.structured == StructuredOutput::Instructions)
        );
    }

    #[test]
    fn an_empty_file_declares_nothing() {
        assert_eq!(
            Catalog::from_toml("", &env(&[])).expect("valid"),
            Vec::new()
        );
    }
}

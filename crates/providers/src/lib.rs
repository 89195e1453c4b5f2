//! LLM providers behind one trait: OpenAI-compatible, Anthropic, Gemini, offline demo; catalog, prices, token estimates.
//!
//! Every provider turns a [`ChatRequest`] (prompts plus the JSON Schema the answer must match)
//! into one HTTP call and gives back a [`ChatOutcome`]: the extracted JSON answer, token usage,
//! and the [`Exchange`] (body sent, body received, status, latency) for the drill-down view.
//! Failures come back as a [`CallFailure`] whose [`CallError`] says whether a retry may help;
//! [`backoff::delay`] says how long to wait. [`check_connection`] makes one tiny call to say,
//! before a batch starts, whether a provider's address, key and model work.
//!
//! # Configuration
//!
//! [`Catalog::from_env`] always offers the offline demo first, then:
//!
//! | variable | adds |
//! |---|---|
//! | `OPENAI_API_KEY` (+ `OPENAI_BASE_URL`) | `openai` |
//! | `ANTHROPIC_API_KEY` (+ `ANTHROPIC_BASE_URL`) | `anthropic` |
//! | `GEMINI_API_KEY` (+ `GEMINI_BASE_URL`) | `gemini` |
//! | `OLLAMA_HOST` (+ `OLLAMA_MODELS=a,b`) | `ollama`: OpenAI-compatible at `{host}/v1`, no key, free |
//! | `ROWBENCH_PROVIDERS_FILE=path.toml` | the file's providers; one with the id of a provider above replaces it |
//!
//! ## Providers file
//!
//! ```toml
//! # Any OpenAI-compatible server: kind, base_url and models are required.
//! [[providers]]
//! id = "openrouter"                    # letters, digits, - _ .
//! label = "OpenRouter"                 # default: the id
//! kind = "openai"                      # openai | anthropic | gemini | demo
//! base_url = "https://openrouter.ai/api/v1"
//! api_key_env = "OPENROUTER_API_KEY"   # preferred: the variable holding the key
//! # api_key = "sk-..."                 # or the key itself (keep the file private)
//! timeout_secs = 120                   # whole call; default 120 (300 for ollama)
//! connect_timeout_secs = 10            # default 10
//! structured = "native"                # native | instructions: default for the models below
//! rate_limit = { requests_per_minute = 60, tokens_per_minute = 200000 }
//!
//! [[providers.models]]
//! id = "openai/gpt-4o-mini"
//! label = "GPT-4o mini (OpenRouter)"   # default: the built-in label, else the id
//! input_usd_per_mtok = 0.15            # USD per million tokens; may be left out
//! output_usd_per_mtok = 0.60           # only for models in the built-in price table
//! structured = "native"
//!
//! # A built-in id (openai, anthropic, gemini, ollama, demo) keeps its defaults: kind, base
//! # URL, key variable (OPENAI_API_KEY...) and, unless `models` is given, the built-in models.
//! [[providers]]
//! id = "openai"
//! rate_limit = { requests_per_minute = 500 }
//!
//! [[providers.models]]
//! id = "gpt-4o-mini"                   # listing models replaces the built-in list;
//! input_usd_per_mtok = 0.15            # prices given here override the built-in ones
//! output_usd_per_mtok = 0.60
//!
//! [[providers]]
//! id = "lmstudio"
//! kind = "openai"
//! base_url = "http://127.0.0.1:1234/v1"
//! structured = "instructions"          # for servers without json_schema support
//! models = [{ id = "qwen2.5-7b-instruct", input_usd_per_mtok = 0, output_usd_per_mtok = 0 }]
//! ```
//!
//! Errors name the line and field, e.g. ``line 14, `models.input_usd_per_mtok`: model `x` has
//! no built-in price...``. A key variable that is not set is not an error: the provider is listed
//! with `has_key: false`.

pub mod anthropic;
pub mod backoff;
pub mod catalog;
pub mod check;
pub mod demo;
pub mod estimate;
pub mod extract;
pub mod gemini;
mod http;
pub mod openai;
pub mod prices;
mod prompt;
pub mod strict;
mod types;

pub use backoff::BackoffPolicy;
pub use catalog::{
    Catalog, ConfigError, ModelInfo, ProviderConfig, ProviderKind, PublicProvider, RateLimit,
    Secret,
};
pub use check::{CheckVerdict, ConnectionCheck, check_connection};
pub use demo::{DEMO_LABEL, DEMO_PROVIDER_ID, DemoProvider};
pub use extract::extract_json;
pub use types::{
    CallError, CallFailure, ChatOutcome, ChatRequest, Exchange, MAX_RAW_RESPONSE_BYTES, Provider,
    Repair, StructuredOutput,
};

//! The built-in model list and prices: the one place prices live. A providers file may override them.
//!
//! Prices are list prices in US dollars per million tokens for standard (non-batch,
//! non-cached, short-context) use. They drift: check the providers' pricing pages and
//! override in the providers file when they do.

use crate::catalog::ModelInfo;
use crate::types::StructuredOutput;

/// One row of the table: provider id, model id, label, input and output USD per million tokens.
struct Row {
    provider: &'static str,
    id: &'static str,
    label: &'static str,
    input: f64,
    output: f64,
}

const TABLE: &[Row] = &[
    Row {
        provider: "demo",
        id: "demo-synthetic",
        label: "Schema-valid sample answers",
        input: 0.0,
        output: 0.0,
    },
    Row {
        provider: "openai",
        id: "gpt-4o-mini",
        label: "GPT-4o mini",
        input: 0.15,
        output: 0.60,
    },
    Row {
        provider: "openai",
        id: "gpt-4.1-mini",
        label: "GPT-4.1 mini",
        input: 0.40,
        output: 1.60,
    },
    Row {
        provider: "openai",
        id: "gpt-4.1-nano",
        label: "GPT-4.1 nano",
        input: 0.10,
        output: 0.40,
    },
    Row {
        provider: "openai",
        id: "gpt-4.1",
        label: "GPT-4.1",
        input: 2.00,
        output: 8.00,
    },
    Row {
        provider: "openai",
        id: "gpt-4o",
        label: "GPT-4o",
        input: 2.50,
        output: 10.00,
    },
    Row {
        provider: "anthropic",
        id: "claude-haiku-4-5",
        label: "Claude Haiku 4.5",
        input: 1.00,
        output: 5.00,
    },
    Row {
        provider: "anthropic",
        id: "claude-sonnet-4-5",
        label: "Claude Sonnet 4.5",
        input: 3.00,
        output: 15.00,
    },
    Row {
        provider: "anthropic",
        id: "claude-sonnet-4-0",
        label: "Claude Sonnet 4",
        input: 3.00,
        output: 15.00,
    },
    Row {
        provider: "gemini",
        id: "gemini-2.5-flash-lite",
        label: "Gemini 2.5 Flash-Lite",
        input: 0.10,
        output: 0.40,
    },
    Row {
        provider: "gemini",
        id: "gemini-2.5-flash",
        label: "Gemini 2.5 Flash",
        input: 0.30,
        output: 2.50,
    },
    Row {
        provider: "gemini",
        id: "gemini-2.5-pro",
        label: "Gemini 2.5 Pro",
        input: 1.25,
        output: 10.00,
    },
    Row {
        provider: "gemini",
        id: "gemini-2.0-flash",
        label: "Gemini 2.0 Flash",
        input: 0.10,
        output: 0.40,
    },
    Row {
        provider: "ollama",
        id: "llama3.2",
        label: "Llama 3.2 (local)",
        input: 0.0,
        output: 0.0,
    },
    Row {
        provider: "ollama",
        id: "qwen2.5",
        label: "Qwen 2.5 (local)",
        input: 0.0,
        output: 0.0,
    },
    Row {
        provider: "ollama",
        id: "gemma3",
        label: "Gemma 3 (local)",
        input: 0.0,
        output: 0.0,
    },
];

fn info(row: &Row) -> ModelInfo {
    ModelInfo {
        id: row.id.to_owned(),
        label: row.label.to_owned(),
        input_usd_per_mtok: row.input,
        output_usd_per_mtok: row.output,
        structured: StructuredOutput::Native,
    }
}

/// The built-in models of a built-in provider (`demo`, `openai`, `anthropic`, `gemini`,
/// `ollama`); empty for any other id.
pub fn builtin_models(provider_id: &str) -> Vec<ModelInfo> {
    TABLE
        .iter()
        .filter(|row| row.provider == provider_id)
        .map(info)
        .collect()
}

/// Every model of the table as `(provider id, model)`, the demo and local models included.
pub fn listed() -> impl Iterator<Item = (&'static str, ModelInfo)> {
    TABLE.iter().map(|row| (row.provider, info(row)))
}

/// The share of the standard price a built-in provider's batch API charges (its answers within
/// a day): half, for OpenAI's Batch API, Anthropic's Message Batches and Gemini's Batch Mode.
/// `None` for any other provider id.
pub fn batch_share(provider_id: &str) -> Option<f64> {
    matches!(provider_id, "openai" | "anthropic" | "gemini").then_some(0.5)
}

/// A model from the table by its id, whichever provider lists it.
pub fn lookup(model_id: &str) -> Option<ModelInfo> {
    TABLE.iter().find(|row| row.id == model_id).map(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_provider_has_models() {
        for provider in ["demo", "openai", "anthropic", "gemini", "ollama"] {
            assert!(!builtin_models(provider).is_empty(), "{provider}");
        }
        assert!(builtin_models("someone-else").is_empty());
    }

    #[test]
    fn model_ids_are_unique() {
        for (index, row) in TABLE.iter().enumerate() {
            assert!(
                TABLE[index + 1..].iter().all(|other| other.id != row.id),
                "{}",
                row.id
            );
        }
    }

    #[test]
    fn prices_are_sane() {
        for row in TABLE {
            assert!(row.input >= 0.0 && row.output >= row.input, "{}", row.id);
        }
        let demo = lookup("demo-synthetic").expect("demo model");
        assert_eq!(
            (demo.input_usd_per_mtok, demo.output_usd_per_mtok),
            (0.0, 0.0)
        );
    }
}

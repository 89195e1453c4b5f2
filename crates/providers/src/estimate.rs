//! Token counts and costs before anything is sent, so a run can be priced up front. Counts use OpenAI's `o200k_base` encoding for every provider: close enough to budget by.

use std::sync::OnceLock;

use serde_json::Value;
use tiktoken_rs::CoreBPE;

use crate::catalog::ModelInfo;
use crate::types::{ChatRequest, StructuredOutput};

/// Tokens a chat format adds around each message (role markers, separators).
const PER_MESSAGE_OVERHEAD: u64 = 4;
/// Tokens a reply adds around its JSON (priming, end of turn) and the slack for answers a bit
/// longer than the synthetic example.
const OUTPUT_OVERHEAD: u64 = 10;

fn encoder() -> &'static CoreBPE {
    static ENCODER: OnceLock<CoreBPE> = OnceLock::new();
    ENCODER.get_or_init(|| {
        tiktoken_rs::o200k_base().expect("the o200k_base vocabulary ships inside tiktoken-rs")
    })
}

/// Tokens in `text`. Special-token markers in user text count as plain text, as providers
/// treat them.
pub fn count_tokens(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    encoder().encode_ordinary(text).len() as u64
}

/// Input tokens of one request: the prompts, the schema (sent in both structured modes), and
/// the per-message framing.
pub fn estimate_input_tokens(request: &ChatRequest) -> u64 {
    let schema = count_tokens(&request.schema.to_string());
    let instructions = match request.structured {
        StructuredOutput::Native => 0,
        StructuredOutput::Instructions => 30,
    };
    let repair = request.repair.as_ref().map_or(0, |repair| {
        count_tokens(&repair.previous_answer)
            + repair.errors.iter().map(|e| count_tokens(e)).sum::<u64>()
            + 2 * PER_MESSAGE_OVERHEAD
            + 20
    });
    count_tokens(&request.system)
        + count_tokens(&request.user)
        + schema
        + instructions
        + repair
        + 2 * PER_MESSAGE_OVERHEAD
}

/// Output tokens an answer to `schema` likely takes: the synthetic example answer, compact,
/// plus a little overhead.
pub fn estimate_output_tokens(schema: &Value) -> u64 {
    let example = rowbench_schema::synthetic::example_answer(schema, 0);
    count_tokens(&example.to_string()) + OUTPUT_OVERHEAD
}

/// The list price of `input` and `output` tokens on `model`, in US dollars.
pub fn cost_usd(model: &ModelInfo, input: u64, output: u64) -> f64 {
    (input as f64 * model.input_usd_per_mtok + output as f64 * model.output_usd_per_mtok)
        / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn known_texts_have_known_token_counts() {
        assert_eq!(count_tokens(""), 0);
        assert_eq!(count_tokens("hello world"), 2);
        assert!(count_tokens(&"lorem ipsum ".repeat(100)) >= 100);
    }

    #[test]
    fn special_token_markers_in_text_do_not_panic() {
        assert!(count_tokens("<|endoftext|>") > 1);
    }

    #[test]
    fn output_estimates_grow_with_the_schema() {
        let small = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]});
        let large = json!({"type": "object", "properties": {
            "a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"},
            "d": {"type": "array", "items": {"type": "string"}, "minItems": 3}
        }, "required": ["a", "b", "c", "d"]});
        let small_tokens = estimate_output_tokens(&small);
        assert!(small_tokens > OUTPUT_OVERHEAD);
        assert!(estimate_output_tokens(&large) > small_tokens);
    }

    #[test]
    fn input_estimates_count_prompts_and_schema() {
        let request = ChatRequest {
            model: "m".into(),
            system: "You are terse.".into(),
            user: "Classify: the parcel never arrived".into(),
            schema: json!({"type": "object"}),
            schema_name: "x".into(),
            temperature: None,
            max_tokens: None,
            structured: StructuredOutput::Native,
            repair: None,
        };
        let tokens = estimate_input_tokens(&request);
        assert!(tokens > count_tokens(&request.user) + count_tokens(&request.system));
    }

    #[test]
    fn cost_is_per_million_tokens() {
        let model = ModelInfo {
            id: "m".into(),
            label: "M".into(),
            input_usd_per_mtok: 2.0,
            output_usd_per_mtok: 8.0,
            structured: StructuredOutput::Native,
        };
        let cost = cost_usd(&model, 1_000_000, 500_000);
        assert!((cost - 6.0).abs() < 1e-9, "{cost}");
        assert_eq!(cost_usd(&model, 0, 0), 0.0);
    }
}

//! "What would it cost elsewhere": the tokens a batch's calls recorded, priced on every model
//! Rowbench knows a price for (the configured ones and the built-in price list), and through the
//! providers' batch APIs where they have one. No call is made.

use serde::{Deserialize, Serialize};

/// One model's price for the batch's tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCost {
    pub provider: String,
    pub model: String,
    pub label: String,
    pub cost_usd: f64,
    /// Through the provider's batch API (answers within a day); `None` where it has none.
    pub batch_cost_usd: Option<f64>,
    /// Configured on this server (else only priced from the built-in list).
    pub configured: bool,
    /// The model this batch ran on.
    pub this_batch: bool,
}

/// `GET /api/batches/{id}/costs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostsElsewhere {
    pub calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// What the batch cost on its own model.
    pub cost_usd: f64,
    /// Cheapest first.
    pub models: Vec<ModelCost>,
}

/// `input` and `output` tokens at these rates (US dollars per million tokens).
pub fn price(input: i64, output: i64, input_usd_per_mtok: f64, output_usd_per_mtok: f64) -> f64 {
    (input.max(0) as f64 * input_usd_per_mtok + output.max(0) as f64 * output_usd_per_mtok)
        / 1_000_000.0
}

#[cfg(feature = "server")]
mod server {
    use rowbench_providers::prices;
    use rowbench_store::queue;

    use super::{CostsElsewhere, ModelCost, price};
    use crate::error::Result;
    use crate::{Actor, Workbench};

    impl Workbench {
        /// Batch `id`'s recorded tokens priced on every model with a known price but the
        /// offline demo's. Tokens are as this batch's model counted them; another model's
        /// tokenizer counts the same text somewhat differently.
        pub async fn costs_elsewhere(&self, actor: &Actor, id: i64) -> Result<CostsElsewhere> {
            let batch = self.stored_batch(actor, id).await?;
            let totals = queue::totals(&self.db, id).await?;
            let settings = &batch.config.recipe.settings;
            let (input, output) = (totals.input_tokens, totals.output_tokens);
            let mut models: Vec<ModelCost> = Vec::new();
            let mut add =
                |provider: &str, model: &rowbench_providers::catalog::ModelInfo, configured| {
                    if provider == rowbench_providers::DEMO_PROVIDER_ID
                        || models
                            .iter()
                            .any(|m| m.provider == provider && m.model == model.id)
                    {
                        return;
                    }
                    let cost = price(
                        input,
                        output,
                        model.input_usd_per_mtok,
                        model.output_usd_per_mtok,
                    );
                    models.push(ModelCost {
                        provider: provider.to_string(),
                        model: model.id.clone(),
                        label: model.label.clone(),
                        cost_usd: cost,
                        batch_cost_usd: prices::batch_share(provider).map(|share| cost * share),
                        configured,
                        this_batch: provider == settings.provider && model.id == settings.model,
                    });
                };
            for provider in self
                .catalog
                .providers
                .iter()
                .filter(|p| actor.may_use(&p.id))
            {
                for model in &provider.models {
                    add(&provider.id, model, true);
                }
            }
            for (provider, model) in prices::listed() {
                add(provider, &model, false);
            }
            models.sort_by(|a, b| {
                a.cost_usd
                    .total_cmp(&b.cost_usd)
                    .then_with(|| a.label.cmp(&b.label))
            });
            Ok(CostsElsewhere {
                calls: totals.calls,
                input_tokens: input,
                output_tokens: output,
                cost_usd: totals.cost_usd,
                models,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_priced_per_million_on_each_side() {
        // 2,000,000 in at $0.15 and 500,000 out at $0.60: $0.30 + $0.30.
        assert!((price(2_000_000, 500_000, 0.15, 0.60) - 0.60).abs() < 1e-12);
        assert_eq!(price(0, 0, 3.0, 15.0), 0.0);
        assert_eq!(price(-5, 10, 1.0, 0.0), 0.0);
    }
}

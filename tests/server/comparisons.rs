//! Comparison runs through the JSON API: a batch's rows run again with another prompt, model or
//! temperature, linked as a comparison, and the agreement of their answers per field, checked
//! against the answers themselves.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::teams::upload;

/// A batch over `rows` rows on the demo, 64 rows at once, run to the end; its id.
async fn finished_batch(app: &TestApp, rows: usize) -> i64 {
    let mut csv = String::from("id,review\n");
    for i in 0..rows {
        csv.push_str(&format!("C-{i},review number {i}\n"));
    }
    let dataset = upload(app, &app.client, "compare", &csv).await;
    let (status, batch) = app
        .post_json(
            "/api/batches",
            &json!({
                "dataset_id": dataset,
                "mapping": { "columns": [
                    { "name": "id", "role": "ignore", "is_key": true },
                    { "name": "review", "role": "include" }
                ]},
                "prompt": { "system": "Classify the review.", "user": "Review: {{ review }}" },
                "schema": { "fields": [
                    { "name": "sentiment", "type": "enum", "options": ["positive", "negative"], "required": true },
                    { "name": "score", "type": "number", "required": true }
                ]},
                "settings": { "provider": "demo", "model": "demo-synthetic", "concurrency": 64 }
            }),
        )
        .await;
    assert_eq!(status, 201, "{batch}");
    let id = batch["id"].as_i64().expect("batch id");
    app.wait_for_batch(id, "completed", Duration::from_secs(60))
        .await;
    id
}

async fn compare(app: &TestApp, batch: i64, body: Value) -> (u16, Value) {
    app.post_json(&format!("/api/batches/{batch}/compare"), &body)
        .await
}

/// Each row's answer of batch `id`, by row.
async fn answers(app: &TestApp, id: i64) -> BTreeMap<i64, Value> {
    let page = app
        .get_json(&format!("/api/batches/{id}/rows?limit=1000"))
        .await;
    page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| (r["row_index"].as_i64().expect("row"), r["result"].clone()))
        .collect()
}

#[tokio::test]
async fn two_prompts_over_200_rows_agree_field_by_field_as_their_answers_say() {
    let app = spawn_app().await;
    let base = finished_batch(&app, 200).await;
    let (status, started) = compare(
        &app,
        base,
        json!({
            "prompt": { "system": "Classify the review; be strict." },
            "settings": { "temperature": 0.2 },
            "rows": "all"
        }),
    )
    .await;
    assert_eq!(status, 201, "{started}");
    assert_eq!(started["rows"], 200);
    let (comparison, run) = (
        started["comparison_id"].as_i64().expect("comparison id"),
        started["batch_id"].as_i64().expect("batch id"),
    );
    let finished = app
        .wait_for_batch(run, "completed", Duration::from_secs(60))
        .await;
    assert_eq!(finished["settings"]["temperature"], 0.2);
    assert_eq!(finished["total_rows"], 200);

    let view = app
        .get_json(&format!("/api/comparisons/{comparison}"))
        .await;
    let runs: Vec<i64> = view["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["batch_id"].as_i64().expect("run"))
        .collect();
    assert_eq!(runs, [base, run]);
    assert_eq!(view["runs"][1]["prompt_changed"], true);
    assert_eq!(
        view["runs"][1]["name"],
        "compare · temperature 0.2, another prompt"
    );
    assert_eq!(view["runs"][0]["prompt_changed"], false);
    assert_eq!(view["rows_compared"], 200);

    // The same figures from the answers themselves.
    let (a, b) = (answers(&app, base).await, answers(&app, run).await);
    assert_eq!((a.len(), b.len()), (200, 200));
    let mut cells: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (row, answer) in &a {
        let pair = (
            answer["sentiment"].as_str().expect("a").to_string(),
            b[row]["sentiment"].as_str().expect("b").to_string(),
        );
        *cells.entry(pair).or_default() += 1;
    }
    let agreed: u64 = cells
        .iter()
        .filter(|((x, y), _)| x == y)
        .map(|(_, n)| n)
        .sum();
    let share = |value: &str, first: bool| {
        cells
            .iter()
            .filter(|((x, y), _)| if first { x == value } else { y == value })
            .map(|(_, n)| *n as f64)
            .sum::<f64>()
            / 200.0
    };
    let chance: f64 = ["positive", "negative"]
        .iter()
        .map(|v| share(v, true) * share(v, false))
        .sum();
    let kappa = (agreed as f64 / 200.0 - chance) / (1.0 - chance);

    let sentiment = &view["fields"][0];
    assert_eq!(sentiment["field"], "sentiment");
    assert_eq!(sentiment["rows_compared"], 200);
    assert_eq!(sentiment["agreed"], agreed);
    assert!(
        (sentiment["agreement"].as_f64().expect("agreement") - agreed as f64 / 200.0).abs() < 1e-9
    );
    assert!(
        (sentiment["kappa"].as_f64().expect("kappa") - kappa).abs() < 1e-9,
        "{sentiment}"
    );
    // Another prompt on the demo is another draw: far from full agreement.
    assert!(agreed < 190, "{agreed} of 200 agreed");
    let confusion: BTreeMap<(String, String), u64> = sentiment["confusion"]
        .as_array()
        .expect("confusion")
        .iter()
        .map(|c| {
            (
                (
                    c["a"].as_str().expect("a").to_string(),
                    c["b"].as_str().expect("b").to_string(),
                ),
                c["rows"].as_u64().expect("rows"),
            )
        })
        .collect();
    assert_eq!(confusion, cells);

    // A number field: agreement, no kappa, no matrix.
    let score = &view["fields"][1];
    assert_eq!(score["field"], "score");
    let same_score = a
        .iter()
        .filter(|(row, answer)| answer["score"].as_f64() == b[*row]["score"].as_f64())
        .count();
    assert_eq!(score["agreed"], same_score);
    assert!(
        score.get("kappa").is_none() && score.get("confusion").is_none(),
        "{score}"
    );
    // Within a tolerance, more of them agree.
    let within = app
        .get_json(&format!("/api/comparisons/{comparison}?tolerance=1000000"))
        .await;
    assert_eq!(within["tolerance"], 1_000_000.0);
    assert_eq!(within["fields"][1]["agreed"], 200, "{within}");
    assert_eq!(within["fields"][0]["agreed"], agreed);
    let bad = app
        .get(&format!("/api/comparisons/{comparison}?tolerance=-1"))
        .await;
    assert_eq!(bad.status().as_u16(), 400);

    // The disagreements, 30 a page: every row where a field differs, once, in order, with both
    // runs' answers side by side and the fields that differ.
    let expected: Vec<i64> = a
        .iter()
        .filter(|(row, answer)| *answer != &b[*row])
        .map(|(row, _)| *row)
        .collect();
    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let path = match after {
            None => format!("/api/batches/{base}/rows?disagree={comparison}&limit=30"),
            Some(after) => {
                format!("/api/batches/{base}/rows?disagree={comparison}&limit=30&after={after}")
            }
        };
        let page = app.get_json(&path).await;
        let rows = page["rows"].as_array().expect("rows").clone();
        assert!(rows.len() <= 30);
        for row in &rows {
            let index = row["row_index"].as_i64().expect("row");
            assert_eq!(row["runs"][0]["batch_id"], base);
            assert_eq!(row["runs"][0]["result"], a[&index]);
            assert_eq!(row["runs"][1]["result"], b[&index]);
            let differ: Vec<&str> = ["sentiment", "score"]
                .into_iter()
                .filter(|f| a[&index][f] != b[&index][f])
                .collect();
            assert_eq!(row["fields"], json!(differ), "{row}");
            listed.push(index);
        }
        match page["next_after"].as_i64() {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(listed, expected);
    let refused = app
        .get(&format!(
            "/api/batches/{base}/rows?disagree={comparison}&status=failed"
        ))
        .await;
    assert_eq!(refused.status().as_u16(), 400);
    assert_eq!(
        app.get(&format!("/api/batches/{base}/rows?disagree=987654"))
            .await
            .status()
            .as_u16(),
        404
    );

    // Taking the other run's answer for a disagreement is a review of the row.
    let first = expected[0];
    let (status, reviewed) = app
        .post_json(
            &format!("/api/batches/{base}/rows/{first}/review"),
            &json!({ "decision": "fix", "answer": b[&first] }),
        )
        .await;
    assert_eq!(status, 200, "{reviewed}");
    assert_eq!(reviewed["review"]["decision"], "fix");
    assert_eq!(reviewed["review"]["answer"], b[&first]);
}

#[tokio::test]
async fn the_first_rows_or_a_seeded_sample_join_the_same_comparison_with_just_those_rows() {
    let app = spawn_app().await;
    let base = finished_batch(&app, 120).await;
    let (status, first) = compare(&app, base, json!({ "rows": { "first": 20 } })).await;
    assert_eq!((status, &first["rows"]), (201, &json!(20)), "{first}");
    let (status, sample) =
        compare(&app, base, json!({ "rows": { "sample": 30, "seed": 5 } })).await;
    assert_eq!((status, &sample["rows"]), (201, &json!(30)), "{sample}");
    // Runs of one batch are one comparison.
    assert_eq!(first["comparison_id"], sample["comparison_id"]);
    for run in [&first, &sample] {
        app.wait_for_batch(
            run["batch_id"].as_i64().expect("run"),
            "completed",
            Duration::from_secs(60),
        )
        .await;
    }
    let first_rows: Vec<i64> = answers(&app, first["batch_id"].as_i64().expect("run"))
        .await
        .into_keys()
        .collect();
    assert_eq!(first_rows, (0..20).collect::<Vec<_>>());
    let sampled: Vec<i64> = answers(&app, sample["batch_id"].as_i64().expect("run"))
        .await
        .into_keys()
        .collect();
    assert_eq!(sampled.len(), 30);
    assert!(sampled.iter().all(|r| (0..120).contains(r)));
    assert_ne!(
        sampled,
        (0..30).collect::<Vec<_>>(),
        "a sample, not the first rows"
    );

    // The same seed draws the same rows again.
    let (_, again) = compare(&app, base, json!({ "rows": { "sample": 30, "seed": 5 } })).await;
    let again_id = again["batch_id"].as_i64().expect("run");
    app.wait_for_batch(again_id, "completed", Duration::from_secs(60))
        .await;
    let again_rows: Vec<i64> = answers(&app, again_id).await.into_keys().collect();
    assert_eq!(again_rows, sampled);

    // Four runs; the rows every one of them answered are the first 20 that were sampled.
    let view = app
        .get_json(&format!("/api/comparisons/{}", first["comparison_id"]))
        .await;
    assert_eq!(view["runs"].as_array().map(Vec::len), Some(4));
    let common = sampled.iter().filter(|r| **r < 20).count();
    assert_eq!(view["rows_compared"], common, "{view}");
    // The same prompt and model on the demo answer alike: every compared row agrees.
    assert_eq!(view["fields"][0]["agreed"], common);
}

#[tokio::test]
async fn a_comparison_that_cannot_start_says_which_field_is_wrong_and_starts_nothing() {
    let app = spawn_app().await;
    let base = finished_batch(&app, 5).await;
    let refused = [
        (
            json!({ "rows": { "first": 0 } }),
            422,
            "invalid_field",
            "rows.first",
        ),
        (
            json!({ "rows": { "sample": 0 } }),
            422,
            "invalid_field",
            "rows.sample",
        ),
        (
            json!({ "rows": "all", "settings": { "error_policy": "pause" } }),
            422,
            "unknown_field",
            "settings.error_policy",
        ),
        (
            json!({ "rows": "all", "extra": 1 }),
            422,
            "unknown_field",
            "extra",
        ),
        (
            json!({ "rows": "all", "settings": { "model": "no-such-model" } }),
            422,
            "invalid_recipe",
            "settings",
        ),
    ];
    for (body, status, code, field) in refused {
        let (got, error) = compare(&app, base, body.clone()).await;
        assert_eq!(got, status, "{body} → {error}");
        assert_eq!(error["error"]["code"], code, "{body} → {error}");
        assert_eq!(
            error["error"]["details"]["field"], field,
            "{body} → {error}"
        );
    }
    let (status, _) = compare(&app, 987_654, json!({ "rows": "all" })).await;
    assert_eq!(status, 404);
    assert_eq!(
        app.get("/api/comparisons/987654").await.status().as_u16(),
        404
    );
    // Nothing was started: the batch is alone.
    let list = app.get_json("/api/batches").await;
    assert_eq!(list["batches"].as_array().map(Vec::len), Some(1), "{list}");
}

#[tokio::test]
async fn the_tokens_a_batch_recorded_are_priced_on_every_known_model_with_no_call() {
    let app = spawn_app().await;
    let base = finished_batch(&app, 20).await;
    let batch = app.get_json(&format!("/api/batches/{base}")).await;
    let (input, output) = (
        batch["totals"]["input_tokens"].as_i64().expect("input"),
        batch["totals"]["output_tokens"].as_i64().expect("output"),
    );
    assert!(input > 0 && output > 0, "{batch}");
    let calls = batch["totals"]["calls"].clone();

    let costs = app.get_json(&format!("/api/batches/{base}/costs")).await;
    assert_eq!(
        (
            costs["input_tokens"].as_i64(),
            costs["output_tokens"].as_i64()
        ),
        (Some(input), Some(output))
    );
    // Priced, not called: no call was added.
    let after = app.get_json(&format!("/api/batches/{base}")).await;
    assert_eq!(after["totals"]["calls"], calls);

    let models = costs["models"].as_array().expect("models");
    let find = |provider: &str, model: &str| {
        models
            .iter()
            .find(|m| m["provider"] == provider && m["model"] == model)
            .unwrap_or_else(|| panic!("{provider}/{model} in {costs}"))
    };
    let mini = find("openai", "gpt-4o-mini");
    let expected = (input as f64 * 0.15 + output as f64 * 0.60) / 1e6;
    assert!(
        (mini["cost_usd"].as_f64().expect("cost") - expected).abs() < 1e-12,
        "{mini}"
    );
    assert!((mini["batch_cost_usd"].as_f64().expect("batch") - expected / 2.0).abs() < 1e-12);
    assert_eq!(
        mini["configured"], false,
        "only the demo is configured in tests"
    );
    // A local model has no batch API; the offline demo is not an alternative.
    let local = models
        .iter()
        .find(|m| m["provider"] == "ollama")
        .expect("a local model");
    assert!(local["batch_cost_usd"].is_null(), "{local}");
    assert!(models.iter().all(|m| m["provider"] != "demo"));
    // Cheapest first.
    let prices: Vec<f64> = models
        .iter()
        .map(|m| m["cost_usd"].as_f64().expect("cost"))
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    assert!(
        models
            .iter()
            .any(|m| m["provider"] == "anthropic" && m["batch_cost_usd"].is_number())
    );
}

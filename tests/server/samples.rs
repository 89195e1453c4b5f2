//! "Review a sample" through the JSON API: rows drawn at random per stratum of the model's
//! answer, the grid's filter of the sample, the whole batch's accuracy its reviews estimate, and
//! that figure in the export's header.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::reviews::export_accuracy;
use crate::teams::{recipe, run_batch, upload};

/// `rows` lines with texts different enough for the demo model to answer both ways.
fn reviews_csv(rows: usize) -> String {
    let mut csv = String::from("id,review\n");
    for i in 0..rows {
        csv.push_str(&format!("R-{i},Review number {i} of the phone\n"));
    }
    csv
}

async fn draw(app: &TestApp, batch: i64, body: Value) -> (u16, Value) {
    app.post_json(&format!("/api/batches/{batch}/sample"), &body)
        .await
}

async fn get(client: &reqwest::Client, url: String) -> (StatusCode, Value) {
    let response = client.get(url).send().await.expect("answered");
    let status = response.status();
    (status, response.json().await.expect("JSON"))
}

async fn discard(app: &TestApp, client: &reqwest::Client, batch: i64) -> StatusCode {
    client
        .delete(app.url(&format!("/api/batches/{batch}/sample")))
        .send()
        .await
        .expect("answered")
        .status()
}

fn indexes(page: &Value) -> Vec<i64> {
    page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["row_index"].as_i64().expect("index"))
        .collect()
}

#[tokio::test]
async fn a_stratified_sample_is_drawn_in_proportion_reviewed_through_its_filter_and_estimates_the_batch()
 {
    let app = spawn_app().await;
    let client = app.client.clone();
    let (_, batch) = run_batch(&app, &client, "sampled", &reviews_csv(80)).await;
    let (status, none) = get(&client, app.url(&format!("/api/batches/{batch}/sample"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{none}");

    // Refusals name the field.
    for (body, field) in [
        (json!({ "size": 0 }), "size"),
        (json!({ "size": 20_000 }), "size"),
        (json!({ "size": 10, "stratify_by": "mood" }), "stratify_by"),
    ] {
        let (status, error) = draw(&app, batch, body.clone()).await;
        assert_eq!(status, 422, "{body}: {error}");
        assert_eq!(error["error"]["details"]["field"], field, "{error}");
    }
    let (status, error) = draw(&app, batch, json!({ "size": 10, "colour": "red" })).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (422, &json!("unknown_field"))
    );

    let (status, sample) = draw(
        &app,
        batch,
        json!({ "size": 20, "stratify_by": "sentiment" }),
    )
    .await;
    assert_eq!(status, 201, "{sample}");
    assert_eq!(sample["population"], 80, "{sample}");
    assert_eq!(sample["stratify_by"], "sentiment");
    let strata = sample["strata"].as_array().expect("strata").clone();
    assert_eq!(
        strata.len(),
        2,
        "the demo model answered both ways: {sample}"
    );
    let population: u64 = strata
        .iter()
        .map(|s| s["population"].as_u64().expect("n"))
        .sum();
    assert_eq!(population, 80);
    for stratum in &strata {
        let (n, drawn) = (
            stratum["population"].as_f64().expect("n"),
            stratum["rows"].as_f64().expect("rows"),
        );
        // Its share of 20, rounded one way or the other (and one row at least).
        assert!(
            (drawn - 20.0 * n / 80.0).abs() < 1.0 || drawn == 1.0,
            "{stratum} of {sample}"
        );
    }
    let drawn = sample["rows"].as_i64().expect("rows");
    assert!((20..=21).contains(&drawn), "{sample}");
    assert_eq!(sample["reviewed"], 0);
    assert_eq!(
        sample["fields"][0]["accuracy"],
        Value::Null,
        "nothing reviewed yet"
    );

    // The grid's filter: the sample's rows, each in the stratum of its answer.
    let (_, page) = get(
        &client,
        app.url(&format!("/api/batches/{batch}/rows?sample=true&limit=100")),
    )
    .await;
    let rows = page["rows"].as_array().expect("rows").clone();
    assert_eq!(rows.len() as i64, drawn, "{page}");
    for stratum in &strata {
        let value = &stratum["value"];
        let in_it = rows
            .iter()
            .filter(|r| &r["result"]["sentiment"] == value)
            .count();
        assert_eq!(
            in_it as u64,
            stratum["rows"].as_u64().expect("rows"),
            "{value}"
        );
    }
    let (status, bad) = get(
        &client,
        app.url(&format!("/api/batches/{batch}/rows?sample=maybe")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["details"]["parameter"], "sample");

    // Every row of the sample accepted but one of the first stratum, rejected.
    let first = strata[0]["value"].clone();
    let rejected = rows
        .iter()
        .find(|r| r["result"]["sentiment"] == first)
        .and_then(|r| r["row_index"].as_i64())
        .expect("a row in the first stratum");
    for index in indexes(&page) {
        let decision = if index == rejected {
            "reject"
        } else {
            "accept"
        };
        let (status, _) = app
            .post_json(
                &format!("/api/batches/{batch}/rows/{index}/review"),
                &json!({ "decision": decision }),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (_, left) = get(
        &client,
        app.url(&format!(
            "/api/batches/{batch}/rows?sample=true&review=unreviewed"
        )),
    )
    .await;
    assert_eq!(
        indexes(&left),
        Vec::<i64>::new(),
        "all of the sample reviewed"
    );
    let (_, rejects) = get(
        &client,
        app.url(&format!(
            "/api/batches/{batch}/rows?sample=true&review=rejected"
        )),
    )
    .await;
    assert_eq!(indexes(&rejects), [rejected]);

    // The first stratum (share W, n rows drawn) is right on n − 1 of them, the other on all:
    // the batch's accuracy is 1 − W / n, not the pooled (drawn − 1) / drawn.
    let (_, sample) = get(&client, app.url(&format!("/api/batches/{batch}/sample"))).await;
    assert_eq!(sample["reviewed"].as_i64(), Some(drawn), "{sample}");
    let share = strata[0]["population"].as_f64().expect("n") / 80.0;
    let n = strata[0]["rows"].as_f64().expect("rows");
    let expected = 1.0 - share / n;
    let sentiment = &sample["fields"][0];
    assert_eq!(sentiment["field"], "sentiment");
    assert_eq!(sentiment["reviewed"].as_i64(), Some(drawn));
    assert_eq!(sentiment["correct"].as_i64(), Some(drawn - 1));
    let accuracy = sentiment["accuracy"].as_f64().expect("estimated");
    assert!(
        (accuracy - expected).abs() < 1e-9,
        "{accuracy} vs {expected}"
    );
    let (low, high) = (
        sentiment["ci_low"].as_f64().expect("low"),
        sentiment["ci_high"].as_f64().expect("high"),
    );
    assert!(
        low < accuracy && accuracy < high && high <= 1.0,
        "{sentiment}"
    );

    // The export states the sample's figure.
    let header = export_accuracy(&app, &client, batch).await;
    assert_eq!(header["sentiment"]["from"], "sample", "{header}");
    assert_eq!(header["sentiment"]["sample_rows"].as_i64(), Some(drawn));
    assert_eq!(header["sentiment"]["population"], 80);
    let stated = header["sentiment"]["accuracy"].as_f64().expect("accuracy");
    assert!((stated - expected).abs() < 1e-4, "{header}");

    // Discarded, the reviews stay and the export goes back to the reviewed rows.
    assert_eq!(discard(&app, &client, batch).await, StatusCode::NO_CONTENT);
    let (status, _) = get(&client, app.url(&format!("/api/batches/{batch}/sample"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, still) = get(
        &client,
        app.url(&format!("/api/batches/{batch}/rows/{rejected}")),
    )
    .await;
    assert_eq!(still["review"]["decision"], "reject");
    let header = export_accuracy(&app, &client, batch).await;
    assert_eq!(header["sentiment"]["from"], "reviewed", "{header}");
    assert_eq!(discard(&app, &client, batch).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_simple_sample_takes_the_size_asked_and_a_running_batch_refuses_to_be_sampled() {
    let app = spawn_app().await;
    let client = app.client.clone();
    let (_, batch) = run_batch(&app, &client, "simple", &reviews_csv(30)).await;
    let (status, sample) = draw(&app, batch, json!({ "size": 7 })).await;
    assert_eq!(status, 201, "{sample}");
    assert_eq!(
        (sample["rows"].as_i64(), &sample["stratify_by"]),
        (Some(7), &Value::Null)
    );
    let first = indexes(
        &get(
            &client,
            app.url(&format!("/api/batches/{batch}/rows?sample=true")),
        )
        .await
        .1,
    );
    assert_eq!(first.len(), 7);
    assert!(
        first.windows(2).all(|w| w[0] < w[1]),
        "in row order: {first:?}"
    );
    // Drawing again replaces the sample; asking for more rows than there are takes them all.
    let (status, all) = draw(&app, batch, json!({ "size": 500 })).await;
    assert_eq!(status, 201, "{all}");
    assert_eq!(all["rows"], 30, "{all}");

    // A batch still running is not sampled: the sample would miss the rows still to come.
    let dataset = upload(&app, &client, "big", &reviews_csv(3_000)).await;
    let (status, started) = app.post_json("/api/batches", &recipe(dataset)).await;
    assert_eq!(status, 201, "{started}");
    let running = started["id"].as_i64().expect("id");
    let (status, refused) = draw(&app, running, json!({ "size": 10 })).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "batch_running", "{refused}");
    let (status, _) = app
        .post_json(&format!("/api/batches/{running}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 200);
}

//! Reviews through the JSON API: a person's accept, fix or reject sits beside the model's
//! answer and never replaces it; a fix must fit the batch's schema; only editors review.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::teams::{add_user, run_batch, run_recipe, signed_in, spawn_team_app, upload};

const CSV: &str = "id,review\n1,Great phone\n2,Broke in a week\n3,It is a phone\n";

async fn review(
    app: &TestApp,
    client: &reqwest::Client,
    batch: i64,
    row: i64,
    body: Value,
) -> (StatusCode, Value) {
    let response = client
        .post(app.url(&format!("/api/batches/{batch}/rows/{row}/review")))
        .json(&body)
        .send()
        .await
        .expect("answered");
    let status = response.status();
    (status, response.json().await.expect("JSON"))
}

async fn text(client: &reqwest::Client, url: String) -> String {
    client
        .get(url)
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("text")
}

/// The accuracy header of batch `batch`'s CSV export, read as JSON.
pub async fn export_accuracy(app: &TestApp, client: &reqwest::Client, batch: i64) -> Value {
    let export = client
        .get(app.url(&format!("/api/batches/{batch}/export?format=csv")))
        .send()
        .await
        .expect("answered");
    let header = export.headers()["x-rowbench-accuracy"]
        .to_str()
        .expect("ASCII");
    serde_json::from_str(header).expect("JSON")
}

async fn row(app: &TestApp, client: &reqwest::Client, batch: i64, row: i64) -> Value {
    client
        .get(app.url(&format!("/api/batches/{batch}/rows/{row}")))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn a_review_sits_beside_the_model_answer_and_a_fix_must_fit_the_schema() {
    let app = spawn_app().await;
    let client = app.client.clone();
    let (_, batch) = run_batch(&app, &client, "reviewed", CSV).await;
    let model: Vec<Value> = {
        let mut answers = Vec::new();
        for index in 0..3 {
            answers.push(row(&app, &client, batch, index).await["result"].clone());
        }
        answers
    };
    assert!(
        model.iter().all(|a| a["sentiment"].is_string()),
        "{model:?}"
    );
    assert_eq!(row(&app, &client, batch, 0).await["review"], Value::Null);

    let (status, accepted) = review(&app, &client, batch, 0, json!({"decision": "accept"})).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["review"]["decision"], "accept");
    assert_eq!(accepted["review"]["answer"], model[0]);
    assert_eq!(accepted["review"]["reviewed_by"], "local");
    assert!(
        accepted["review"]["reviewed_at_ms"]
            .as_i64()
            .unwrap_or_default()
            > 0
    );
    assert_eq!(accepted["result"], model[0], "the model's answer stays");

    let other = if model[1]["sentiment"] == "positive" {
        "negative"
    } else {
        "positive"
    };
    let (status, refused) = review(
        &app,
        &client,
        batch,
        1,
        json!({"decision": "fix", "answer": {"sentiment": "neutral"}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_answer");
    assert_eq!(refused["error"]["details"]["field"], "sentiment");
    assert_eq!(
        row(&app, &client, batch, 1).await["review"],
        Value::Null,
        "nothing saved"
    );
    let (status, missing) = review(&app, &client, batch, 1, json!({"decision": "fix"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing["error"]["details"]["field"], "answer");

    let (status, fixed) = review(
        &app,
        &client,
        batch,
        1,
        json!({"decision": "fix", "answer": {"sentiment": other}, "reason": " sarcasm "}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{fixed}");
    assert_eq!(fixed["review"]["answer"]["sentiment"], other);
    assert_eq!(fixed["review"]["reason"], "sarcasm");
    assert_eq!(
        fixed["result"], model[1],
        "the model's answer stays beside the fix"
    );
    let read = row(&app, &client, batch, 1).await;
    assert_eq!(read["review"], fixed["review"]);

    let (status, rejected) = review(
        &app,
        &client,
        batch,
        2,
        json!({"decision": "reject", "reason": "not a review"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rejected["review"]["answer"], Value::Null);
    assert_eq!(rejected["review"]["decision"], "reject");

    // Two rows judged (one accepted, one fixed away from the model's answer), one rejected.
    let accuracy: Value = client
        .get(app.url(&format!("/api/batches/{batch}/accuracy")))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        (
            &accuracy["accepted"],
            &accuracy["fixed"],
            &accuracy["rejected"]
        ),
        (&json!(1), &json!(1), &json!(1)),
        "{accuracy}"
    );
    let sentiment = &accuracy["fields"][0];
    assert_eq!(sentiment["field"], "sentiment");
    assert_eq!(
        (&sentiment["reviewed"], &sentiment["correct"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(sentiment["accuracy"], 0.5);
    let (low, high) = rowbench_workbench::accuracy::wilson(1, 2).expect("counted");
    assert_eq!(
        (sentiment["ci_low"].as_f64(), sentiment["ci_high"].as_f64()),
        (Some(low), Some(high))
    );
    assert_eq!(
        sentiment["confusion"].as_array().map(Vec::len),
        Some(2),
        "{sentiment}"
    );
    let bad = client
        .get(app.url(&format!("/api/batches/{batch}/accuracy?tolerance=-1")))
        .send()
        .await
        .expect("answered");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // The export: the reviewed answer where there is one, with who and when; the model's own
    // beside it on request.
    let csv = text(
        &client,
        app.url(&format!("/api/batches/{batch}/export?model_answers=true")),
    )
    .await;
    let records = crate::export::parse_csv(&csv);
    let (header, lines) = records.split_first().expect("a header");
    let at = |name: &str| header.iter().position(|h| h == name).expect(name);
    assert_eq!(lines.len(), 3);
    let cell = |row: usize, name: &str| lines[row][at(name)].clone();
    let model_of = |row: usize| {
        model[row]["sentiment"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        cell(0, "sentiment"),
        model_of(0),
        "accepted: the model's answer"
    );
    assert_eq!(cell(1, "sentiment"), other, "fixed: the fix");
    assert_eq!(cell(2, "sentiment"), "", "rejected: no answer");
    for row in 0..3 {
        assert_eq!(cell(row, "sentiment_model"), model_of(row));
        assert_eq!(cell(row, "_reviewed_by"), "local");
        let when = cell(row, "_reviewed_at");
        assert!(
            when.len() == 24 && when.ends_with('Z') && when.as_bytes()[10] == b'T',
            "{when}"
        );
    }
    assert_eq!(
        [cell(0, "_review"), cell(1, "_review"), cell(2, "_review")],
        ["accepted", "fixed", "rejected"]
    );
    let plain = client
        .get(app.url(&format!("/api/batches/{batch}/export")))
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("text");
    assert!(
        !plain
            .lines()
            .next()
            .unwrap_or_default()
            .contains("sentiment_model"),
        "{plain:.200}"
    );
    let json: Value = client
        .get(app.url(&format!("/api/batches/{batch}/export?format=json")))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    assert_eq!(json[1]["sentiment"], other);
    assert_eq!(json[1]["_review"], "fixed");
    assert_eq!(json[2]["sentiment"], Value::Null);
    assert_eq!(json[0]["_reviewed_by"], "local");

    for (body, code) in [
        (json!({"decision": "maybe"}), "invalid_field"),
        (json!({"decision": "accept", "score": 1}), "unknown_field"),
    ] {
        let (status, answer) = review(&app, &client, batch, 0, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["error"]["code"], code, "{answer}");
    }
    let (status, _) = review(&app, &client, batch, 99, json!({"decision": "reject"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = review(&app, &client, 987_654, 0, json!({"decision": "reject"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The model answers row 1 again: its review stays, and says the model's answer changed.
    let retried = client
        .post(app.url(&format!("/api/batches/{batch}/rows/0/retry")))
        .send()
        .await
        .expect("answered");
    assert_eq!(retried.status(), StatusCode::OK);
    let started = std::time::Instant::now();
    loop {
        let now = row(&app, &client, batch, 0).await;
        if now["status"] == "succeeded" && now["attempt"].as_i64() > Some(1) {
            assert_eq!(now["review"]["decision"], "accept", "{now}");
            assert_eq!(now["review"]["model_changed"], true, "{now}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_viewer_cannot_review_and_an_editor_is_named_as_the_reviewer() {
    let app = spawn_team_app().await;
    add_user(&app, "eve@example.com", "Alpha", "editor").await;
    add_user(&app, "vic@example.com", "Alpha", "viewer").await;
    let eve = signed_in(&app, "eve@example.com").await;
    let (_, batch) = run_batch(&app, &eve, "team-reviewed", CSV).await;
    let vic = signed_in(&app, "vic@example.com").await;
    let (status, refused) = review(&app, &vic, batch, 0, json!({"decision": "accept"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, accepted) = review(&app, &eve, batch, 0, json!({"decision": "accept"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(accepted["review"]["reviewed_by"], "eve@example.com");
    assert_eq!(
        row(&app, &vic, batch, 0).await["review"]["decision"],
        "accept",
        "a viewer reads the review"
    );
    // A review sample too: a viewer reads it, only an editor draws or discards it.
    let sample = |client: &reqwest::Client, method: reqwest::Method| {
        let request = client.request(method, app.url(&format!("/api/batches/{batch}/sample")));
        async move {
            request
                .json(&json!({ "size": 2 }))
                .send()
                .await
                .expect("answered")
                .status()
        }
    };
    assert_eq!(
        sample(&vic, reqwest::Method::POST).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sample(&eve, reqwest::Method::POST).await,
        StatusCode::CREATED
    );
    assert_eq!(sample(&vic, reqwest::Method::GET).await, StatusCode::OK);
    assert_eq!(
        sample(&vic, reqwest::Method::DELETE).await,
        StatusCode::FORBIDDEN
    );
    // Running rows again with the reviewed ones as examples is an editor's too.
    let rerun = |client: &reqwest::Client| {
        let request = client
            .post(app.url(&format!("/api/batches/{batch}/rerun")))
            .json(&json!({ "rows": "all", "examples": { "count": 1 } }));
        async move { request.send().await.expect("answered").status() }
    };
    assert_eq!(rerun(&vic).await, StatusCode::FORBIDDEN);
    assert_eq!(rerun(&eve).await, StatusCode::OK);
}

async fn rows_reviewed(app: &TestApp, client: &reqwest::Client, batch: i64, filter: &str) -> Value {
    let response = client
        .get(app.url(&format!("/api/batches/{batch}/rows?review={filter}")))
        .send()
        .await
        .expect("answered");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(status, StatusCode::OK, "{filter}: {body}");
    body
}

fn indexes(page: &Value) -> Vec<i64> {
    page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["row_index"].as_i64().expect("row index"))
        .collect()
}

#[tokio::test]
async fn the_rows_filter_by_their_review_and_a_fix_that_changes_nothing_is_an_acceptance() {
    let app = spawn_app().await;
    let client = app.client.clone();
    let (_, batch) = run_batch(&app, &client, "filtered", CSV).await;
    let model = row(&app, &client, batch, 1).await["result"].clone();
    let (status, same) = review(
        &app,
        &client,
        batch,
        1,
        json!({"decision": "fix", "answer": model}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{same}");
    assert_eq!(same["review"]["decision"], "accept");
    let (status, _) = review(&app, &client, batch, 2, json!({"decision": "reject"})).await;
    assert_eq!(status, StatusCode::OK);

    assert_eq!(
        indexes(&rows_reviewed(&app, &client, batch, "unreviewed").await),
        [0]
    );
    assert_eq!(
        indexes(&rows_reviewed(&app, &client, batch, "accepted").await),
        [1]
    );
    assert_eq!(
        indexes(&rows_reviewed(&app, &client, batch, "rejected").await),
        [2]
    );
    assert!(indexes(&rows_reviewed(&app, &client, batch, "fixed").await).is_empty());
    let accepted = rows_reviewed(&app, &client, batch, "accepted").await;
    assert_eq!(accepted["rows"][0]["review"]["decision"], "accept");
    assert_eq!(accepted["rows"][0]["review"]["answer"], model);

    let response = client
        .get(app.url(&format!("/api/batches/{batch}/rows?review=maybe")))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["details"]["parameter"], "review", "{body}");
}

#[tokio::test]
async fn a_gold_column_is_never_sent_and_measures_the_model_with_reviews_winning_over_it() {
    let app = spawn_app().await;
    let client = app.client.clone();
    let csv = "id,review,label\n1,Great phone,positive\n2,Broke in a week,negative\n\
               3,It is a phone,negative\n4,Fine,\n5,Love it,positive\n";
    let dataset = upload(&app, &client, "gold", csv).await;
    let mut recipe = crate::teams::recipe(dataset);
    recipe["mapping"]["columns"]
        .as_array_mut()
        .expect("columns")
        .push(json!({ "name": "label", "role": "include", "gold_for": "sentiment" }));
    let refused = client
        .post(app.url("/api/batches"))
        .json(&recipe)
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.expect("JSON");
    assert!(
        body.to_string().contains("must not be sent to the model"),
        "{body}"
    );
    recipe["mapping"]["columns"][2]["role"] = json!("ignore");
    let batch = run_recipe(&app, &client, &recipe).await;
    let gold = ["positive", "negative", "negative", "", "positive"];
    let mut model = Vec::new();
    for index in 0..5 {
        let answer = row(&app, &client, batch, index).await;
        let user = answer["messages"]["user"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            !user.contains("positive") && !user.contains("negative"),
            "the gold label never reaches the prompt: {user}"
        );
        model.push(
            answer["result"]["sentiment"]
                .as_str()
                .expect("answer")
                .to_string(),
        );
    }
    let accuracy = |client: reqwest::Client| {
        let url = app.url(&format!("/api/batches/{batch}/accuracy"));
        async move {
            client
                .get(url)
                .send()
                .await
                .expect("answered")
                .json::<Value>()
                .await
                .expect("JSON")
        }
    };
    // Four rows have a gold label (row 4's is empty).
    let right = (0..5)
        .filter(|&i| !gold[i].is_empty() && model[i] == gold[i])
        .count() as i64;
    let measured = accuracy(client.clone()).await;
    let sentiment = &measured["fields"][0];
    assert_eq!(sentiment["reviewed"], 4, "{measured}");
    assert_eq!(sentiment["gold"], 4, "{measured}");
    assert_eq!(sentiment["correct"], right, "{measured}");

    // A fix on row 1 says the right answer is the opposite of its gold label: the review wins.
    let opposite = if gold[0] == "positive" {
        "negative"
    } else {
        "positive"
    };
    let (status, _) = review(
        &app,
        &client,
        batch,
        0,
        json!({"decision": "fix", "answer": {"sentiment": opposite}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let after = accuracy(client.clone()).await;
    let sentiment = &after["fields"][0];
    let right_after = right - i64::from(model[0] == gold[0]) + i64::from(model[0] == opposite);
    assert_eq!(
        (
            &sentiment["reviewed"],
            &sentiment["gold"],
            &sentiment["correct"]
        ),
        (&json!(4), &json!(3), &json!(right_after)),
        "{after}"
    );

    // The figure travels with the export.
    let header = export_accuracy(&app, &client, batch).await;
    assert_eq!(header["sentiment"]["compared"], 4, "{header}");
    let expected = (right_after as f64 / 4.0 * 10_000.0).round() / 10_000.0;
    assert_eq!(
        header["sentiment"]["accuracy"].as_f64(),
        Some(expected),
        "{header}"
    );
    assert!(header["sentiment"]["ci_low"].as_f64() <= Some(expected));
}

/// A finished batch of four rows with an enum and a number field.
async fn scored_batch(app: &TestApp, client: &reqwest::Client) -> i64 {
    let csv = "id,review\nA,Great\nB,Bad\nC,Fine\nD,Meh\n";
    let mut recipe = crate::teams::recipe(upload(app, client, "sheet", csv).await);
    recipe["schema"]["fields"]
        .as_array_mut()
        .expect("fields")
        .push(json!({ "name": "score", "type": "number", "required": true }));
    run_recipe(app, client, &recipe).await
}

async fn upload_sheet(
    app: &TestApp,
    client: &reqwest::Client,
    batch: i64,
    apply: &str,
    sheet: &str,
) -> (StatusCode, Value) {
    let response = client
        .post(app.url(&format!("/api/batches/{batch}/review-sheet?apply={apply}")))
        .header("content-type", "text/csv")
        .body(sheet.to_string())
        .send()
        .await
        .expect("answered");
    let status = response.status();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn a_review_sheet_goes_out_and_comes_back_checked_line_by_line_and_column_by_column() {
    let app = spawn_app().await;
    let client = app.client.clone();
    let batch = scored_batch(&app, &client).await;
    let response = client
        .get(app.url(&format!("/api/batches/{batch}/review-sheet")))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap_or_default()
            .contains("-review.csv")
    );
    let sheet = crate::export::parse_csv(&response.text().await.expect("text"));
    assert_eq!(
        sheet[0],
        [
            "row",
            "id",
            "sentiment",
            "score",
            "_review",
            "verdict",
            "reason",
            "fix_sentiment",
            "fix_score"
        ]
    );
    assert_eq!(sheet.len(), 5, "{sheet:?}");
    let first = row(&app, &client, batch, 0).await["result"].clone();
    assert_eq!(
        sheet[1][..3],
        [
            "1".to_string(),
            "A".into(),
            first["sentiment"].as_str().unwrap_or_default().to_string()
        ]
    );

    // Reordered columns; line 2 a valid fix, 3 an acceptance, 4 an option the enum lacks, 5 a
    // number that is not one, 6 a row the batch does not have.
    let opposite = if first["sentiment"] == "positive" {
        "negative"
    } else {
        "positive"
    };
    let filled = format!(
        "fix_score,reason,verdict,row,fix_sentiment\n\
         ,,,1,{opposite}\n\
         ,,accept,2,\n\
         ,,,3,mixed\n\
         abc,,,4,\n\
         ,spam,reject,99,\n"
    );
    let (status, refused) = upload_sheet(&app, &client, batch, "all", &filled).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_sheet");
    let problems: Vec<(i64, String)> = refused["error"]["details"]["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["line"].as_i64().unwrap_or(0),
                p["column"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (4, "fix_sentiment".to_string()),
            (5, "fix_score".to_string()),
            (6, "row".to_string())
        ],
        "{refused}"
    );
    assert_eq!(
        row(&app, &client, batch, 0).await["review"],
        Value::Null,
        "nothing applied"
    );

    let (status, checked) = upload_sheet(&app, &client, batch, "check", &filled).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&checked["applied"], &checked["fixed"], &checked["accepted"]),
        (&json!(false), &json!(1), &json!(1))
    );
    assert_eq!(
        row(&app, &client, batch, 0).await["review"],
        Value::Null,
        "a check applies nothing"
    );

    let (status, applied) = upload_sheet(&app, &client, batch, "valid", &filled).await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert_eq!(applied["applied"], true);
    assert_eq!(applied["summary"], "1 fix, 1 row accepted");
    assert_eq!(applied["problems"].as_array().map(Vec::len), Some(3));
    let fixed = row(&app, &client, batch, 0).await;
    assert_eq!(fixed["review"]["decision"], "fix");
    assert_eq!(fixed["review"]["answer"]["sentiment"], opposite);
    assert_eq!(
        fixed["review"]["answer"]["score"], first["score"],
        "the other field is kept"
    );
    assert_eq!(fixed["result"], first, "the model's answer stays");
    assert_eq!(
        row(&app, &client, batch, 1).await["review"]["decision"],
        "accept"
    );
    assert_eq!(row(&app, &client, batch, 2).await["review"], Value::Null);

    // The sheet downloaded again says what was reviewed.
    let again = text(
        &client,
        app.url(&format!("/api/batches/{batch}/review-sheet")),
    )
    .await;
    let again = crate::export::parse_csv(&again);
    assert_eq!(
        (again[1][2].as_str(), again[1][4].as_str()),
        (opposite, "fixed")
    );
    assert_eq!(again[2][4], "accepted");
}

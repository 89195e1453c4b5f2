//! Sending a file to `POST /api/datasets` from the browser. XMLHttpRequest rather than fetch,
//! because only it reports upload progress.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{File, FormData, ProgressEvent, XmlHttpRequest};

use crate::api::upload::DatasetView;

fn js_error(err: wasm_bindgen::JsValue) -> String {
    format!("The browser could not send the file: {err:?}")
}

/// Starts uploading `file` to `url` (`/api/datasets` with its reading options);
/// `on_progress` gets the share sent (0 to 1), `on_done` the dataset or the message to show.
pub fn send(
    url: &str,
    file: &File,
    on_progress: impl Fn(f64) + 'static,
    on_done: impl FnOnce(Result<DatasetView, String>) + 'static,
) -> Result<(), String> {
    let form = FormData::new().map_err(js_error)?;
    form.append_with_blob_and_filename("file", file, &file.name())
        .map_err(js_error)?;
    let xhr = XmlHttpRequest::new().map_err(js_error)?;
    xhr.open_with_async("POST", url, true).map_err(js_error)?;

    let progress = Closure::<dyn Fn(ProgressEvent)>::new(move |event: ProgressEvent| {
        if event.length_computable() && event.total() > 0.0 {
            on_progress(event.loaded() / event.total());
        }
    });
    xhr.upload()
        .map_err(js_error)?
        .set_onprogress(Some(progress.as_ref().unchecked_ref()));

    let answered = xhr.clone();
    let mut on_done = Some(on_done);
    let finished = Closure::<dyn FnMut()>::new(move || {
        if let Some(done) = on_done.take() {
            done(read_answer(&answered));
        }
    });
    xhr.set_onloadend(Some(finished.as_ref().unchecked_ref()));
    // The request owns its handlers for as long as it lives; one small leak per upload.
    progress.forget();
    finished.forget();

    xhr.send_with_opt_form_data(Some(&form)).map_err(js_error)
}

fn read_answer(xhr: &XmlHttpRequest) -> Result<DatasetView, String> {
    let status = xhr.status().unwrap_or(0);
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    match status {
        201 => serde_json::from_str(&text)
            .map_err(|e| format!("The server's answer could not be read: {e}")),
        _ => Err(refusal(status, &text)),
    }
}

/// What to tell the user when an upload was not taken: the API's own message
/// (`{"error": {"message": …}}`), or why there is none.
pub fn refusal(status: u16, text: &str) -> String {
    if status == 0 {
        return "The upload did not reach the server. Check that Rowbench is running, then try again."
            .into();
    }
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|body| body["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| format!("The server refused the file (HTTP {status})."))
}

/// Sends `file` as the whole body of a POST to `url` (a review sheet); `on_done` gets the HTTP
/// status and the answer's text (status 0 when the server was not reached).
pub fn send_raw(
    url: &str,
    file: &File,
    on_done: impl FnOnce(u16, String) + 'static,
) -> Result<(), String> {
    let xhr = XmlHttpRequest::new().map_err(js_error)?;
    xhr.open_with_async("POST", url, true).map_err(js_error)?;
    xhr.set_request_header("content-type", "text/csv")
        .map_err(js_error)?;
    let answered = xhr.clone();
    let mut on_done = Some(on_done);
    let finished = Closure::<dyn FnMut()>::new(move || {
        if let Some(done) = on_done.take() {
            let status = answered.status().unwrap_or(0);
            let text = answered.response_text().ok().flatten().unwrap_or_default();
            done(status, text);
        }
    });
    xhr.set_onloadend(Some(finished.as_ref().unchecked_ref()));
    finished.forget();
    xhr.send_with_opt_blob(Some(file)).map_err(js_error)
}

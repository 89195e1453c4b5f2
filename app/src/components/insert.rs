//! Putting a piece of text into a text area at its caret, as a click on an "Available names"
//! chip does: what was selected is replaced and the caret lands after the insert.

/// `text` with `insert` put between `start` and `end`, both counted in UTF-16 code units as the
/// browser counts a selection, and the caret after the insert in the same units. Positions past
/// the end (or inside a character) are taken to the nearest character boundary.
pub fn insert_at(text: &str, start: u32, end: u32, insert: &str) -> (String, u32) {
    let byte = |at: u32| {
        let mut units = 0u32;
        for (i, c) in text.char_indices() {
            if units >= at {
                return i;
            }
            units += c.len_utf16() as u32;
        }
        text.len()
    };
    let (start, end) = (start.min(end), start.max(end));
    let (from, to) = (byte(start), byte(end));
    let mut out = String::with_capacity(text.len() + insert.len());
    out.push_str(&text[..from]);
    out.push_str(insert);
    out.push_str(&text[to..]);
    let caret = text[..from].encode_utf16().count() + insert.encode_utf16().count();
    (out, caret as u32)
}

/// The selection of the text area `id` in UTF-16 units; `None` outside the browser or when the
/// element is not a text area.
#[cfg(feature = "hydrate")]
pub fn selection(id: &str) -> Option<(u32, u32)> {
    use wasm_bindgen::JsCast;
    let area = leptos::prelude::document()
        .get_element_by_id(id)?
        .dyn_into::<web_sys::HtmlTextAreaElement>()
        .ok()?;
    Some((area.selection_start().ok()??, area.selection_end().ok()??))
}

#[cfg(not(feature = "hydrate"))]
pub fn selection(_id: &str) -> Option<(u32, u32)> {
    None
}

/// Focuses the text area `id` with the caret at `caret` once the page has shown its new value.
pub fn focus_at(id: &'static str, caret: u32) {
    #[cfg(feature = "hydrate")]
    leptos::prelude::request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(area) = leptos::prelude::document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
        {
            let _ = area.focus();
            let _ = area.set_selection_range(caret, caret);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, caret);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insert_replaces_the_selection_and_the_caret_follows_it() {
        assert_eq!(
            insert_at("Hi there", 3, 8, "{{ x }}"),
            ("Hi {{ x }}".into(), 10)
        );
        assert_eq!(insert_at("ab", 1, 1, "-"), ("a-b".into(), 2));
        assert_eq!(insert_at("ab", 99, 99, "!"), ("ab!".into(), 3));
    }

    #[test]
    fn positions_count_as_the_browser_counts_them_past_emoji() {
        // "😀" is two UTF-16 units and four bytes.
        let (text, caret) = insert_at("😀 ok", 3, 3, "{{ a }}");
        assert_eq!(text, "😀 {{ a }}ok");
        assert_eq!(caret, 10);
    }
}

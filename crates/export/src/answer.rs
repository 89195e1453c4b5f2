//! Reading a stored answer (a JSON object) without building a `serde_json::Value`: each field's
//! value stays a slice of the stored text, so numbers come out exactly as written and a row
//! costs no allocation beyond its slot list.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON string, borrowed from the input when it has no escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// The value of each of `fields` in the answer `text`, in field order; `None` for a field the
/// answer lacks. Keys that are not fields are skipped.
pub(crate) fn field_values<'a>(
    text: &'a str,
    fields: &[String],
) -> Result<Vec<Option<&'a RawValue>>, serde_json::Error> {
    let mut slots = vec![None; fields.len()];
    let mut de = serde_json::Deserializer::from_str(text);
    Slots {
        fields,
        slots: &mut slots,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(slots)
}

struct Slots<'s, 'a> {
    fields: &'s [String],
    slots: &'s mut [Option<&'a RawValue>],
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for Slots<'_, 'a> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Slots<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an answer object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            match self.fields.iter().position(|field| *field == key) {
                Some(at) => self.slots[at] = Some(map.next_value::<&'de RawValue>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Appends `value` to `out` as one spreadsheet cell: strings as they are, numbers as written,
/// booleans as `true`/`false`, null as nothing, lists joined with `"; "` (their strings as they
/// are, anything else as JSON), objects as compact JSON.
pub(crate) fn append_cell(value: &RawValue, out: &mut String) -> Result<(), serde_json::Error> {
    let raw = value.get();
    match raw.as_bytes().first() {
        Some(b'n') => {}
        Some(b'"') => out.push_str(&serde_json::from_str::<Text>(raw)?.0),
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(raw)?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str("; ");
                }
                match item.get().as_bytes().first() {
                    Some(b'"') => out.push_str(&serde_json::from_str::<Text>(item.get())?.0),
                    Some(b'n') => {}
                    _ => out.push_str(item.get()),
                }
            }
        }
        _ => out.push_str(raw),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn cell(raw: &str) -> String {
        let value: &RawValue = serde_json::from_str(raw).expect("valid JSON");
        let mut out = String::new();
        append_cell(value, &mut out).expect("flattens");
        out
    }

    #[test]
    fn fields_are_found_by_name_whatever_their_order() {
        let text = r#"{"b":2,"extra":{"x":[1]},"a":"x\"y","c":null}"#;
        let values = field_values(text, &fields(&["a", "b", "c", "d"])).expect("object");
        let raw: Vec<Option<&str>> = values.iter().map(|v| v.map(RawValue::get)).collect();
        assert_eq!(raw, [Some(r#""x\"y""#), Some("2"), Some("null"), None]);
    }

    #[test]
    fn an_escaped_key_still_matches_its_field() {
        let values = field_values(r#"{"say \"hi\"":1}"#, &fields(&["say \"hi\""])).expect("ok");
        assert_eq!(values[0].map(RawValue::get), Some("1"));
    }

    #[test]
    fn an_answer_that_is_not_an_object_is_refused() {
        assert!(field_values("[1,2]", &fields(&["a"])).is_err());
        assert!(field_values("{\"a\":1} trailing", &fields(&["a"])).is_err());
    }

    #[test]
    fn values_flatten_to_spreadsheet_cells() {
        assert_eq!(cell(r#""Zoë \"q\"\n""#), "Zoë \"q\"\n");
        assert_eq!(cell("12.50"), "12.50");
        assert_eq!(cell("-3"), "-3");
        assert_eq!(cell("1e21"), "1e21");
        assert_eq!(cell("true"), "true");
        assert_eq!(cell("false"), "false");
        assert_eq!(cell("null"), "");
        assert_eq!(
            cell(r#"["a","b; c",1,null,{"k":2}]"#),
            r#"a; b; c; 1; ; {"k":2}"#
        );
        assert_eq!(cell("[]"), "");
        assert_eq!(cell(r#"{"k":[1,2]}"#), r#"{"k":[1,2]}"#);
    }
}

//! Synthetic answers: a deterministic, schema-valid example value for any JSON Schema the app deals with.

use serde_json::{Map, Number, Value};

/// Beyond this many nested `$ref`s or containers, only what the schema demands is generated,
/// so recursive schemas (a tree of nodes) still end.
const FULL_DEPTH: usize = 8;
/// Past this depth even required parts are given up on (returns `null`): the schema has
/// a required cycle and no finite value exists.
const MAX_DEPTH: usize = 32;

/// A deterministic, schema-valid example answer for a JSON Schema: the same (schema, seed) always gives the same value.
///
/// Strings look plausible but are plainly synthetic ("sample text 3"), so nobody mistakes
/// them for a model's output. Unsupported keywords (such as `pattern`) are ignored, which may
/// make the value invalid for such schemas.
pub fn example_answer(schema: &Value, seed: u64) -> Value {
    let mut generator = Generator {
        root: schema,
        state: seed,
    };
    generator.value(schema, 0)
}

struct Generator<'a> {
    root: &'a Value,
    state: u64,
}

impl<'a> Generator<'a> {
    /// splitmix64: tiny, well-mixed and dependency-free; quality only needs to look varied.
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`, or 0 when n is 0.
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn value(&mut self, schema: &Value, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        let Some(obj) = schema.as_object() else {
            // `true` (or anything non-object) accepts every value; `false` accepts none, so
            // whatever we return is as good as anything.
            return Value::String(self.text());
        };

        if let Some(target) = obj.get("$ref").and_then(Value::as_str)
            && let Some(resolved) = self.resolve(target)
        {
            return self.value(resolved, depth + 1);
        }
        if let Some(constant) = obj.get("const") {
            return constant.clone();
        }
        if let Some(options) = obj.get("enum").and_then(Value::as_array)
            && !options.is_empty()
        {
            let index = self.below(options.len() as u64) as usize;
            return options[index].clone();
        }
        if let Some(all) = obj.get("allOf").and_then(Value::as_array)
            && !all.is_empty()
        {
            let merged = self.merge_all_of(obj, all);
            return self.value(&merged, depth + 1);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(first) = obj
                .get(key)
                .and_then(Value::as_array)
                .and_then(|branches| branches.first())
                && !has_own_type_hint(obj)
            {
                return self.value(first, depth + 1);
            }
        }

        match pick_type(obj).as_str() {
            "null" => Value::Null,
            "boolean" => Value::Bool(self.below(2) == 1),
            "integer" => self.integer(obj),
            "number" => self.number(obj),
            "array" => self.array(obj, depth),
            "object" => self.object(obj, depth),
            _ => self.string(obj),
        }
    }

    /// Local refs only (`#`, `#/$defs/x`, `#/definitions/x`): answers never point elsewhere.
    fn resolve(&self, target: &str) -> Option<&'a Value> {
        let pointer = target.strip_prefix('#')?;
        let mut current = self.root;
        for part in pointer.split('/').skip(1) {
            let key = part.replace("~1", "/").replace("~0", "~");
            current = match current {
                Value::Object(map) => map.get(&key)?,
                Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    fn merge_all_of(&self, obj: &Map<String, Value>, all: &[Value]) -> Value {
        let mut merged = obj.clone();
        merged.remove("allOf");
        for part in all {
            let part = match part.get("$ref").and_then(Value::as_str) {
                Some(target) => self.resolve(target).unwrap_or(part),
                None => part,
            };
            let Some(part) = part.as_object() else {
                continue;
            };
            for (key, value) in part {
                match (key.as_str(), merged.get_mut(key), value) {
                    ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                        for (name, sub) in theirs {
                            mine.entry(name.clone()).or_insert_with(|| sub.clone());
                        }
                    }
                    ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                        for name in theirs {
                            if !mine.contains(name) {
                                mine.push(name.clone());
                            }
                        }
                    }
                    (_, None, _) => {
                        merged.insert(key.clone(), value.clone());
                    }
                    _ => {}
                }
            }
        }
        Value::Object(merged)
    }

    fn text(&mut self) -> String {
        format!("sample text {}", self.below(99) + 1)
    }

    fn string(&mut self, obj: &Map<String, Value>) -> Value {
        let n = self.below(28) + 1;
        let formatted = match obj.get("format").and_then(Value::as_str) {
            Some("date") => Some(format!("2024-{:02}-{:02}", n % 12 + 1, n)),
            Some("date-time") => Some(format!(
                "2024-{:02}-{:02}T{:02}:{:02}:00Z",
                n % 12 + 1,
                n,
                n % 24,
                (n * 7) % 60
            )),
            Some("time") => Some(format!("{:02}:{:02}:00Z", n % 24, (n * 7) % 60)),
            Some("email") => Some(format!("user{n}@example.com")),
            Some("uri" | "url" | "iri") => Some(format!("https://example.com/item/{n}")),
            Some("hostname") => Some(format!("host{n}.example.com")),
            Some("ipv4") => Some(format!("192.0.2.{n}")),
            Some("uuid") => Some(format!(
                "00000000-0000-4000-8000-{:012x}",
                self.next() >> 16
            )),
            _ => None,
        };
        if let Some(text) = formatted {
            return Value::String(text);
        }

        let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = obj
            .get("maxLength")
            .and_then(Value::as_u64)
            .map_or(usize::MAX, |m| m as usize);
        let mut text = format!("sample text {n}");
        if text.chars().count() > max {
            text = text.chars().take(max).collect();
        }
        let mut filler = " more".chars().cycle();
        while text.chars().count() < min {
            text.push(filler.next().unwrap_or('x'));
        }
        Value::String(text)
    }

    fn integer(&mut self, obj: &Map<String, Value>) -> Value {
        let (lo, hi) = bounds(obj);
        let lo_i = lo.map_or(1, |(v, exclusive)| {
            if exclusive {
                v.floor() as i64 + 1
            } else {
                v.ceil() as i64
            }
        });
        let hi_i = hi.map_or(lo_i.max(1).saturating_add(99), |(v, exclusive)| {
            if exclusive {
                v.ceil() as i64 - 1
            } else {
                v.floor() as i64
            }
        });
        let (lo_i, hi_i) = match (lo, hi) {
            (None, Some(_)) => (hi_i.saturating_sub(99).min(hi_i), hi_i),
            _ => (lo_i, hi_i.max(lo_i)),
        };
        let step = obj
            .get("multipleOf")
            .and_then(Value::as_f64)
            .filter(|m| *m >= 1.0 && m.fract() == 0.0)
            .map_or(1, |m| m as i64);
        let k_lo = lo_i.div_euclid(step) + i64::from(lo_i.rem_euclid(step) != 0);
        let k_hi = hi_i.div_euclid(step).max(k_lo);
        let span = (k_hi - k_lo) as u64 + 1;
        let k = k_lo + self.below(span) as i64;
        Value::Number(Number::from(k * step))
    }

    fn number(&mut self, obj: &Map<String, Value>) -> Value {
        if let Some(step) = obj.get("multipleOf").and_then(Value::as_f64)
            && step > 0.0
        {
            let (lo, hi) = bounds(obj);
            let lo_v = lo.map_or(0.0, |(v, _)| v);
            let hi_v = hi.map_or(lo_v + 100.0 * step, |(v, _)| v);
            let mut k_lo = (lo_v / step).ceil();
            if lo.is_some_and(|(_, exclusive)| exclusive) && k_lo * step <= lo_v {
                k_lo += 1.0;
            }
            let mut k_hi = (hi_v / step).floor();
            if hi.is_some_and(|(_, exclusive)| exclusive) && k_hi * step >= hi_v {
                k_hi -= 1.0;
            }
            let span = (k_hi - k_lo).max(0.0) as u64 + 1;
            let k = k_lo + self.below(span.min(1000)) as f64;
            return number_value(k * step);
        }
        let (lo, hi) = bounds(obj);
        // Quarter points are always strictly inside the range, so exclusive bounds hold too.
        let fraction = [0.25, 0.5, 0.75][self.below(3) as usize];
        let value = match (lo, hi) {
            (Some((lo, _)), Some((hi, _))) => lo + (hi - lo) * fraction,
            (Some((lo, _)), None) => lo + 100.0 * fraction,
            (None, Some((hi, _))) => hi - 100.0 * fraction,
            // Unbounded numbers are most often scores or shares; a fraction reads as one.
            (None, None) => fraction,
        };
        number_value(value)
    }

    fn array(&mut self, obj: &Map<String, Value>, depth: usize) -> Value {
        let min = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = obj
            .get("maxItems")
            .and_then(Value::as_u64)
            .map_or(usize::MAX, |m| m as usize);
        let count = if depth >= FULL_DEPTH {
            min
        } else {
            (self.below(3) as usize + 1).max(min).min(max)
        };
        let prefix = obj
            .get("prefixItems")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let items = obj.get("items");
        let unique = obj
            .get("uniqueItems")
            .and_then(Value::as_bool)
            .unwrap_or(false);

        let mut out: Vec<Value> = Vec::with_capacity(count);
        let mut attempts = 0;
        while out.len() < count && attempts < count * 8 + 8 {
            attempts += 1;
            let sub = prefix.get(out.len()).or(items);
            let next = match sub {
                Some(Value::Bool(false)) => break,
                Some(sub) => self.value(sub, depth + 1),
                None => Value::String(self.text()),
            };
            if unique && out.contains(&next) {
                continue;
            }
            out.push(next);
        }
        Value::Array(out)
    }

    fn object(&mut self, obj: &Map<String, Value>, depth: usize) -> Value {
        let required: Vec<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        if let Some(properties) = obj.get("properties").and_then(Value::as_object) {
            for (name, sub) in properties {
                if depth >= FULL_DEPTH && !required.contains(&name.as_str()) {
                    continue;
                }
                if matches!(sub, Value::Bool(false)) {
                    continue;
                }
                let value = self.value(sub, depth + 1);
                out.insert(name.clone(), value);
            }
        }
        for name in required {
            if out.contains_key(name) {
                continue;
            }
            let value = match obj.get("additionalProperties") {
                Some(sub @ Value::Object(_)) => self.value(sub, depth + 1),
                _ => Value::String(self.text()),
            };
            out.insert(name.to_owned(), value);
        }
        Value::Object(out)
    }
}

fn has_own_type_hint(obj: &Map<String, Value>) -> bool {
    obj.contains_key("type") || obj.contains_key("properties") || obj.contains_key("items")
}

/// The type to generate: the first non-null one listed, else one inferred from the keywords.
fn pick_type(obj: &Map<String, Value>) -> String {
    match obj.get("type") {
        Some(Value::String(t)) => return t.clone(),
        Some(Value::Array(types)) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            if let Some(t) = names.iter().find(|t| **t != "null") {
                return (*t).to_owned();
            }
            if !names.is_empty() {
                return "null".to_owned();
            }
        }
        _ => {}
    }
    let has = |keys: &[&str]| keys.iter().any(|k| obj.contains_key(*k));
    let inferred = if has(&["properties", "required", "additionalProperties"]) {
        "object"
    } else if has(&["items", "prefixItems", "minItems", "maxItems"]) {
        "array"
    } else if has(&["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]) {
        "number"
    } else {
        "string"
    };
    inferred.to_owned()
}

/// Lower and upper bounds as (value, exclusive), reading both draft-4 boolean and
/// draft-6+ numeric `exclusive*` forms.
type Bound = Option<(f64, bool)>;

fn bounds(obj: &Map<String, Value>) -> (Bound, Bound) {
    let bound = |inclusive: &str, exclusive: &str| -> Bound {
        match (
            obj.get(inclusive).and_then(Value::as_f64),
            obj.get(exclusive),
        ) {
            (_, Some(Value::Number(n))) => n.as_f64().map(|v| (v, true)),
            (Some(v), Some(Value::Bool(true))) => Some((v, true)),
            (Some(v), _) => Some((v, false)),
            (None, _) => None,
        }
    };
    (
        bound("minimum", "exclusiveMinimum"),
        bound("maximum", "exclusiveMaximum"),
    )
}

/// Drops float noise (0.1 * 3 = 0.30000000000000004) so values read cleanly and sit on
/// `multipleOf` steps.
fn number_value(value: f64) -> Value {
    let cleaned = format!("{value:.10}").parse::<f64>().unwrap_or(value);
    Number::from_f64(cleaned).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_same_schema_and_seed_give_the_same_answer() {
        let schema = json!({"type": "object", "properties": {
            "a": {"type": "string"}, "b": {"type": "number"}, "c": {"type": "array", "items": {"type": "integer"}}
        }});
        for seed in 0..20 {
            assert_eq!(example_answer(&schema, seed), example_answer(&schema, seed));
        }
    }

    #[test]
    fn different_seeds_give_different_answers() {
        let schema = json!({"type": "string"});
        let answers: std::collections::BTreeSet<String> = (0..20)
            .map(|seed| example_answer(&schema, seed).to_string())
            .collect();
        assert!(answers.len() > 5, "{answers:?}");
    }

    #[test]
    fn object_properties_come_out_in_schema_order_including_optional_ones() {
        let schema = json!({"type": "object", "properties": {
            "zeta": {"type": "string"}, "alpha": {"type": "boolean"}, "mid": {"type": "integer"}
        }, "required": ["zeta"]});
        let answer = example_answer(&schema, 7);
        let keys: Vec<&String> = answer.as_object().expect("an object").keys().collect();
        assert_eq!(keys, ["zeta", "alpha", "mid"]);
    }

    #[test]
    fn strings_look_synthetic_and_respect_length_limits() {
        let plain = example_answer(&json!({"type": "string"}), 1);
        assert!(
            plain
                .as_str()
                .expect("a string")
                .starts_with("sample text ")
        );
        let short = example_answer(&json!({"type": "string", "maxLength": 4}), 1);
        assert_eq!(short.as_str().expect("a string").chars().count(), 4);
        let long = example_answer(&json!({"type": "string", "minLength": 40}), 1);
        assert!(long.as_str().expect("a string").chars().count() >= 40);
    }

    #[test]
    fn formats_date_and_email_are_shaped_right() {
        for seed in 0..30 {
            let date = example_answer(&json!({"type": "string", "format": "date"}), seed);
            let date = date.as_str().expect("a string");
            assert_eq!(date.len(), 10, "{date}");
            let email = example_answer(&json!({"type": "string", "format": "email"}), seed);
            assert!(email.as_str().expect("a string").ends_with("@example.com"));
        }
    }

    #[test]
    fn numbers_stay_within_their_bounds() {
        for seed in 0..50 {
            let confidence =
                example_answer(&json!({"type": "number", "minimum": 0, "maximum": 1}), seed)
                    .as_f64()
                    .expect("a number");
            assert!((0.0..=1.0).contains(&confidence));
            let whole = example_answer(
                &json!({"type": "integer", "exclusiveMinimum": 3, "maximum": 5}),
                seed,
            )
            .as_i64()
            .expect("an integer");
            assert!((4..=5).contains(&whole), "{whole}");
            let stepped = example_answer(
                &json!({"type": "integer", "minimum": 1, "multipleOf": 5}),
                seed,
            )
            .as_i64()
            .expect("an integer");
            assert_eq!(stepped % 5, 0);
            assert!(stepped >= 5);
        }
    }

    #[test]
    fn arrays_have_one_to_three_items_unless_the_schema_says_otherwise() {
        for seed in 0..30 {
            let free = example_answer(&json!({"type": "array", "items": {"type": "string"}}), seed);
            let len = free.as_array().expect("an array").len();
            assert!((1..=3).contains(&len));
            let exact = example_answer(
                &json!({"type": "array", "items": {"type": "boolean"}, "minItems": 5, "maxItems": 5}),
                seed,
            );
            assert_eq!(exact.as_array().expect("an array").len(), 5);
        }
    }

    #[test]
    fn enum_const_and_nullable_types_are_honoured() {
        let options = json!(["positive", "neutral", "negative"]);
        for seed in 0..20 {
            let picked = example_answer(&json!({"type": "string", "enum": options}), seed);
            assert!(options.as_array().expect("options").contains(&picked));
            let untyped = example_answer(&json!({"enum": [1, "two", null]}), seed);
            assert!([json!(1), json!("two"), Value::Null].contains(&untyped));
        }
        assert_eq!(
            example_answer(&json!({"const": {"x": 1}}), 3),
            json!({"x": 1})
        );
        assert!(example_answer(&json!({"type": ["string", "null"]}), 3).is_string());
        assert!(example_answer(&json!({"type": ["null"]}), 3).is_null());
    }

    #[test]
    fn any_of_and_one_of_use_the_first_branch() {
        let schema = json!({"anyOf": [{"type": "integer"}, {"type": "string"}]});
        assert!(example_answer(&schema, 1).is_i64());
        let schema = json!({"oneOf": [{"type": "boolean"}, {"type": "string"}]});
        assert!(example_answer(&schema, 1).is_boolean());
    }

    #[test]
    fn local_refs_resolve_and_recursion_ends() {
        let schema = json!({
            "$defs": {"node": {"type": "object", "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}
            }, "required": ["name"]}},
            "$ref": "#/$defs/node"
        });
        let answer = example_answer(&schema, 5);
        assert!(answer.get("name").is_some_and(Value::is_string));
    }

    #[test]
    fn all_of_merges_properties_and_required_names() {
        let schema = json!({"allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "integer"}}, "required": ["b"]}
        ]});
        let answer = example_answer(&schema, 2);
        assert!(answer.get("a").is_some_and(Value::is_string));
        assert!(answer.get("b").is_some_and(Value::is_i64));
    }
}

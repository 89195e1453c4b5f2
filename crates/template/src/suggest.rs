//! "Did you mean" suggestions: the closest candidate by edit distance, if it is close enough.

/// Longest name compared; longer ones are not typos of a known name worth the quadratic cost.
const MAX_COMPARED_CHARS: usize = 64;

/// Edit distance counting an adjacent swap as one edit (optimal string alignment), so
/// `lnag` is one edit from `lang`, like `titel` from `title`.
fn distance(a: &[char], b: &[char]) -> usize {
    let width = b.len() + 1;
    let mut rows = vec![0usize; (a.len() + 1) * width];
    for (j, cell) in rows.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i * width] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[(i - 1) * width + j] + 1)
                .min(rows[i * width + j - 1] + 1)
                .min(rows[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[(i - 2) * width + j - 2] + 1);
            }
            rows[i * width + j] = best;
        }
    }
    rows[a.len() * width + b.len()]
}

fn lowered(s: &str) -> Vec<char> {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// The suggestion of the candidate `(compared name, suggestion)` closest to `wanted`, when
/// it is within about a third of the name's length. Case differences are almost free:
/// they only break ties, so `Titel` finds `title`.
pub(crate) fn closest<'c, I>(wanted: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = (&'c str, String)>,
{
    if wanted.chars().count() > MAX_COMPARED_CHARS {
        return None;
    }
    let wanted_lower = lowered(wanted);
    let wanted_exact: Vec<char> = wanted.chars().collect();
    let mut best: Option<((usize, usize), String)> = None;
    for (name, suggestion) in candidates {
        if name == wanted || name.chars().count() > MAX_COMPARED_CHARS {
            continue;
        }
        let exact: Vec<char> = name.chars().collect();
        let lower = lowered(name);
        let d = distance(&wanted_lower, &lower);
        let longest = wanted_lower.len().max(lower.len());
        let allowed = longest.div_ceil(3).max(1);
        // A candidate that must be rewritten completely is no suggestion at all.
        if d > allowed || d >= longest {
            continue;
        }
        let score = (d, distance(&wanted_exact, &exact));
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, suggestion));
        }
    }
    best.map(|(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(wanted: &str, names: &[&'static str]) -> Option<String> {
        closest(wanted, names.iter().map(|n| (*n, (*n).to_owned())))
    }

    #[test]
    fn a_swapped_pair_of_letters_counts_as_one_edit() {
        let a: Vec<char> = "lnag".chars().collect();
        let b: Vec<char> = "lang".chars().collect();
        assert_eq!(distance(&a, &b), 1);
    }

    #[test]
    fn the_closest_name_is_suggested() {
        assert_eq!(
            pick("titel", &["body", "title", "tile_x"]),
            Some("title".into())
        );
        assert_eq!(pick("Titel", &["title"]), Some("title".into()));
        assert_eq!(pick("lnag", &["lang", "tone"]), Some("lang".into()));
    }

    #[test]
    fn an_exact_case_match_wins_over_a_case_insensitive_one() {
        assert_eq!(
            pick("Name", &["name", "Name2", "NAME"]),
            Some("name".into())
        );
        assert_eq!(pick("NAMe", &["name", "NAME"]), Some("NAME".into()));
    }

    #[test]
    fn unrelated_or_tiny_names_get_no_suggestion() {
        assert_eq!(pick("x", &["y"]), None);
        assert_eq!(pick("price", &["title", "body"]), None);
        assert_eq!(pick("anything", &[]), None);
    }

    #[test]
    fn huge_names_are_not_compared() {
        let long = "a".repeat(10_000);
        assert_eq!(pick(&long, &["a"]), None);
    }
}

//! The header row: column names made usable (none blank, none repeated) with every change kept
//! so the UI can show what was renamed.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// The column names of an upload, after clean-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// One unique, non-blank name per column, in file order.
    pub names: Vec<String>,
    /// Every name that differs from the file's, in column order.
    pub renames: Vec<Rename>,
}

/// A column whose name in the file was blank or a repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rename {
    /// The column's position, 1-based.
    pub position: usize,
    /// The name as written in the file.
    pub original: String,
    /// The name Rowbench uses instead.
    pub renamed: String,
}

impl Header {
    /// Cleans up the names of a header row: a blank (or whitespace-only) name becomes
    /// `column_N` for its 1-based position, a repeated name gets `_2`, `_3`… and every other
    /// name is kept exactly. New names never take a name another column has in the file.
    pub fn from_names(originals: Vec<String>) -> Self {
        let is_blank = |name: &str| name.trim().is_empty();
        let in_file: HashSet<&str> = originals
            .iter()
            .map(String::as_str)
            .filter(|name| !is_blank(name))
            .collect();
        let mut taken: HashSet<String> = HashSet::new();
        let mut names = Vec::with_capacity(originals.len());
        let mut renames = Vec::new();
        for (index, original) in originals.iter().enumerate() {
            let position = index + 1;
            let blank = is_blank(original);
            if !blank && !taken.contains(original) {
                taken.insert(original.clone());
                names.push(original.clone());
                continue;
            }
            let base = if blank {
                format!("column_{position}")
            } else {
                original.clone()
            };
            let is_free = |name: &str| !taken.contains(name) && !in_file.contains(name);
            let renamed = if blank && is_free(&base) {
                base
            } else {
                (2..)
                    .map(|suffix| format!("{base}_{suffix}"))
                    .find(|name| is_free(name))
                    .unwrap_or_default()
            };
            taken.insert(renamed.clone());
            renames.push(Rename {
                position,
                original: original.clone(),
                renamed: renamed.clone(),
            });
            names.push(renamed);
        }
        Self { names, renames }
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no columns (never true for a header read from a file).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Header {
        Header::from_names(names.iter().map(|name| (*name).to_owned()).collect())
    }

    fn rename(position: usize, original: &str, renamed: &str) -> Rename {
        Rename {
            position,
            original: original.into(),
            renamed: renamed.into(),
        }
    }

    #[test]
    fn blank_names_become_column_and_their_position() {
        let header = header(&["id", "", "  ", "name"]);
        assert_eq!(header.names, ["id", "column_2", "column_3", "name"]);
        assert_eq!(
            header.renames,
            [rename(2, "", "column_2"), rename(3, "  ", "column_3")]
        );
    }

    #[test]
    fn repeated_names_get_numbered_suffixes() {
        let header = header(&["a", "b", "a", "a"]);
        assert_eq!(header.names, ["a", "b", "a_2", "a_3"]);
        assert_eq!(
            header.renames,
            [rename(3, "a", "a_2"), rename(4, "a", "a_3")]
        );
    }

    #[test]
    fn a_new_name_never_takes_a_name_from_the_file() {
        let header = header(&["a", "a", "a_2", "", "column_4"]);
        assert_eq!(header.names, ["a", "a_3", "a_2", "column_4_2", "column_4"]);
    }

    #[test]
    fn other_names_are_kept_exactly() {
        let names = [" padded ", "Name", "name", "Prénom", "a\nb", "\"q\""];
        let header = header(&names);
        assert_eq!(header.names, names);
        assert!(header.renames.is_empty());
    }
}

//! [`KeyPath`]: the one way to name a place in a values tree.
//!
//! A dotted string cannot tell `{a: {b: 1}}` from `{"a.b": 1}` (issue 9), and chart
//! values have keys with dots in them (`nodeSelector: {kubernetes.io/os: linux}`). A
//! `KeyPath` keeps the keys apart; its `Display` writes `a.b` for ordinary keys and
//! brackets the others: `agent.nodeSelector["kubernetes.io/os"]`, `a["b.c"]`.

use std::fmt;

/// The keys from the root of a map tree down to one node.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyPath(pub Vec<String>);

impl KeyPath {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Self {
        Self(names.iter().map(|name| name.as_ref().to_string()).collect())
    }

    /// This path with `name` appended.
    pub fn child(&self, name: &str) -> Self {
        let mut path = self.clone();
        path.0.push(name.to_string());
        path
    }

    /// `prefix` followed by this path.
    pub fn under(&self, prefix: &str) -> Self {
        let mut path = Self(vec![prefix.to_string()]);
        path.0.extend(self.0.iter().cloned());
        path
    }

    /// Whether `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &KeyPath) -> bool {
        self.0.starts_with(&other.0)
    }

    /// The paths above this one, nearest first (not the empty root).
    pub fn ancestors(&self) -> impl Iterator<Item = KeyPath> + '_ {
        (1..self.0.len()).rev().map(|length| KeyPath(self.0[..length].to_vec()))
    }

    /// One key as it reads in a path: bare, or bracketed and quoted when it holds a
    /// `.`, `/` or space (or is empty), so that no two paths read the same.
    pub fn segment(name: &str) -> String {
        if name.is_empty() || name.contains(['.', '/', ' ', '[', ']', '"']) {
            format!("[{name:?}]")
        } else {
            name.to_string()
        }
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, name) in self.0.iter().enumerate() {
            let part = Self::segment(name);
            if index > 0 && !part.starts_with('[') {
                f.write_str(".")?;
            }
            f.write_str(&part)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_keys_that_would_read_as_two() {
        assert_eq!(KeyPath::from_names(&["a", "b"]).to_string(), "a.b");
        assert_eq!(KeyPath::from_names(&["a.b"]).to_string(), "[\"a.b\"]");
        assert_eq!(KeyPath::from_names(&["a", "b.c"]).to_string(), "a[\"b.c\"]");
        assert_eq!(
            KeyPath::from_names(&["agent", "nodeSelector", "kubernetes.io/os"]).to_string(),
            "agent.nodeSelector[\"kubernetes.io/os\"]"
        );
        assert_ne!(KeyPath::from_names(&["a", "b"]), KeyPath::from_names(&["a.b"]));
    }

    #[test]
    fn prefixes_are_whole_keys() {
        let path = KeyPath::from_names(&["agent", "nodeSelector", "pool"]);
        assert!(path.starts_with(&KeyPath::from_names(&["agent", "nodeSelector"])));
        assert!(!path.starts_with(&KeyPath::from_names(&["agent", "node"])));
        let ancestors: Vec<String> = path.ancestors().map(|p| p.to_string()).collect();
        assert_eq!(ancestors, ["agent.nodeSelector", "agent"]);
    }
}

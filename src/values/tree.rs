//! A YAML tree that remembers the line of every node, so that errors can name
//! the file and line a bad key or value came from.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;

/// A scalar, list or map with the 1-based line it was written on (0 when unknown,
/// e.g. values from `--set`).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    pub fn new(kind: Kind, line: u32) -> Node {
        Node { kind, line }
    }

    pub fn map() -> Node {
        Node::new(Kind::Map(Vec::new()), 0)
    }

    /// The entry `key` of a map node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match &mut self.kind {
            Kind::Map(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follow a dotted path of map keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, k| n.get(k))
    }

    /// A short name of the node's type for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a map",
        }
    }

    pub fn to_json(&self) -> Json {
        match &self.kind {
            Kind::Null => Json::Null,
            Kind::Bool(b) => Json::Bool(*b),
            Kind::Int(i) => Json::from(*i),
            Kind::Float(f) => serde_json::Number::from_f64(*f)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Kind::Str(s) => Json::String(s.clone()),
            Kind::Seq(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    pub fn from_json(v: &Json) -> Node {
        let kind = match v {
            Json::Null => Kind::Null,
            Json::Bool(b) => Kind::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Kind::Int(i),
                None => Kind::Float(n.as_f64().unwrap_or_default()),
            },
            Json::String(s) => Kind::Str(s.clone()),
            Json::Array(a) => Kind::Seq(a.iter().map(Node::from_json).collect()),
            Json::Object(o) => Kind::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Node::from_json(v)))
                    .collect(),
            ),
        };
        Node::new(kind, 0)
    }
}

/// Parse one YAML document into a line-aware tree. An empty document is an empty map.
pub fn parse(text: &str) -> Result<Node, serde_saphyr::Error> {
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        return Ok(Node::map());
    }
    let spanned: serde_saphyr::Spanned<Kind> = serde_saphyr::from_str(text)?;
    Ok(Node::new(spanned.value, spanned.referenced.line() as u32))
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<Kind>::deserialize(d)?;
        Ok(Node::new(s.value, s.referenced.line() as u32))
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        Kind::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Kind, E> {
        Ok(Kind::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Kind, E> {
        Ok(Kind::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Kind, E> {
        Ok(i64::try_from(v)
            .map(Kind::Int)
            .unwrap_or(Kind::Float(v as f64)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Kind, E> {
        Ok(Kind::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Kind, E> {
        Ok(Kind::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Kind, E> {
        Ok(Kind::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            items.push(n);
        }
        Ok(Kind::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut entries: Vec<(String, Node)> = Vec::new();
        while let Some(key) = map.next_key::<KeyString>()? {
            let value = map.next_value::<Node>()?;
            if let Some(slot) = entries.iter_mut().find(|(k, _)| *k == key.0) {
                slot.1 = value;
            } else {
                entries.push((key.0, value));
            }
        }
        Ok(Kind::Map(entries))
    }
}

/// Map keys: strings, or scalars written without quotes (`80: x`, `true: y`).
struct KeyString(String);

impl<'de> Deserialize<'de> for KeyString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_lines_of_nested_keys() {
        let n = parse("a:\n  b: 1\n  c:\n    - x\n    - y\nd: \"s\"\n").unwrap();
        assert_eq!(n.at(&["a", "b"]).unwrap().line, 2);
        assert_eq!(n.at(&["a", "c"]).unwrap().line, 4);
        assert_eq!(n.get("d").unwrap().kind, Kind::Str("s".into()));
        assert_eq!(n.get("d").unwrap().line, 6);
    }

    #[test]
    fn empty_document_is_an_empty_map() {
        assert_eq!(parse("# nothing\n").unwrap().kind, Kind::Map(vec![]));
    }

    #[test]
    fn scalar_types_are_kept() {
        let n = parse("i: 3\nf: 1.5\nb: true\nz: null\nq: \"3\"\n").unwrap();
        assert_eq!(n.get("i").unwrap().kind, Kind::Int(3));
        assert_eq!(n.get("f").unwrap().kind, Kind::Float(1.5));
        assert_eq!(n.get("b").unwrap().kind, Kind::Bool(true));
        assert_eq!(n.get("z").unwrap().kind, Kind::Null);
        assert_eq!(n.get("q").unwrap().kind, Kind::Str("3".into()));
    }
}

//! Helm's `--set` syntax: `a.b=c`, `list={x,y}`, `a.b[0].c=d`, `a\.b=c` (escaped dot),
//! several assignments separated by commas.

use super::tree::{Kind, Node};

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Parse one `--set` argument into a tree that can be merged like a values file.
pub fn parse_set(arg: &str) -> Result<Node, String> {
    let mut root = Node::map();
    for assignment in split_top_level(arg)? {
        let (path, value) = assignment
            .split_once('=')
            .map(|(p, v)| (p.to_string(), v.to_string()))
            .ok_or_else(|| {
                format!("`--set {arg}`: `{assignment}` has no `=` — write key=value, e.g. --set backend.replicaCount=2")
            })?;
        let segs = parse_path(&path).map_err(|e| format!("`--set {arg}`: {e}"))?;
        let value = parse_value(&value);
        insert(&mut root, &segs, value).map_err(|e| format!("`--set {arg}`: {e}"))?;
    }
    Ok(root)
}

/// The `--set` argument as it may be shown in a message: each value is replaced by `…`
/// unless `show_value` says its key may be shown (a known key that holds no credential).
/// A typo such as `externalDatabase.pasword=S3cr3t` is never echoed with its value.
pub fn shown(arg: &str, show_value: impl Fn(&[&str]) -> bool) -> String {
    let Ok(parts) = split_top_level(arg) else {
        return "<argument hidden>".to_string();
    };
    parts
        .iter()
        .map(|part| match part.split_once('=') {
            Some((path, value)) => {
                let keys: Vec<String> = parse_path(path)
                    .map(|segs| {
                        segs.into_iter()
                            .map(|s| match s {
                                Seg::Key(k) => k,
                                Seg::Index(i) => i.to_string(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                if !keys.is_empty() && show_value(&keys) {
                    format!("{path}={value}")
                } else {
                    format!("{path}=…")
                }
            }
            None => part.clone(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Split on commas that are not inside `{...}` and not escaped.
fn split_top_level(arg: &str) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut chars = arg.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '{' => {
                depth += 1;
                cur.push(c);
            }
            '}' => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("`--set {arg}`: `}}` without `{{`"));
                }
                cur.push(c);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if depth != 0 {
        return Err(format!(
            "`--set {arg}`: `{{` without `}}` — lists are written list={{a,b}}"
        ));
    }
    parts.push(cur);
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err("`--set` needs key=value, e.g. --set backend.replicaCount=2".into());
    }
    Ok(parts)
}

fn parse_path(path: &str) -> Result<Vec<Seg>, String> {
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => cur.push(n),
                None => return Err("key ends with `\\`".into()),
            },
            '.' => {
                if cur.is_empty() && !matches!(segs.last(), Some(Seg::Index(_))) {
                    return Err(format!("empty key segment in `{path}`"));
                }
                if !cur.is_empty() {
                    segs.push(Seg::Key(std::mem::take(&mut cur)));
                }
            }
            '[' => {
                if !cur.is_empty() {
                    segs.push(Seg::Key(std::mem::take(&mut cur)));
                }
                let mut num = String::new();
                loop {
                    match chars.next() {
                        Some(']') => break,
                        Some(d) => num.push(d),
                        None => return Err(format!("`[` without `]` in `{path}`")),
                    }
                }
                let idx: usize = num
                    .trim()
                    .parse()
                    .map_err(|_| format!("list index `{num}` in `{path}` is not a number"))?;
                if idx > 1000 {
                    return Err(format!("list index {idx} in `{path}` is too large"));
                }
                segs.push(Seg::Index(idx));
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        segs.push(Seg::Key(cur));
    }
    match segs.first() {
        None => Err("empty key".into()),
        Some(Seg::Index(_)) => Err(format!(
            "`{path}` starts with a list index; name the key first"
        )),
        Some(Seg::Key(_)) => Ok(segs),
    }
}

/// Helm's value typing: `true`/`false`, `null`, integers, `{a,b}` lists, else a string.
fn parse_value(v: &str) -> Node {
    let kind = if v.starts_with('{') && v.ends_with('}') {
        let inner = &v[1..v.len() - 1];
        if inner.is_empty() {
            Kind::Seq(vec![])
        } else {
            Kind::Seq(inner.split(',').map(parse_value).collect())
        }
    } else {
        match v {
            "true" => Kind::Bool(true),
            "false" => Kind::Bool(false),
            "null" => Kind::Null,
            _ => match v.parse::<i64>() {
                // Helm keeps leading zeros as strings ("007").
                Ok(i) if !(v.len() > 1 && v.starts_with('0')) => Kind::Int(i),
                _ => Kind::Str(v.replace("\\,", ",")),
            },
        }
    };
    Node::new(kind, 0)
}

fn insert(node: &mut Node, segs: &[Seg], value: Node) -> Result<(), String> {
    let Some((first, rest)) = segs.split_first() else {
        *node = value;
        return Ok(());
    };
    match first {
        Seg::Key(k) => {
            if !matches!(node.kind, Kind::Map(_)) {
                node.kind = Kind::Map(Vec::new());
            }
            let Kind::Map(entries) = &mut node.kind else {
                unreachable!()
            };
            let idx = match entries.iter().position(|(ek, _)| ek == k) {
                Some(i) => i,
                None => {
                    entries.push((k.clone(), Node::map()));
                    entries.len() - 1
                }
            };
            insert(&mut entries[idx].1, rest, value)
        }
        Seg::Index(i) => {
            if !matches!(node.kind, Kind::Seq(_)) {
                node.kind = Kind::Seq(Vec::new());
            }
            let Kind::Seq(items) = &mut node.kind else {
                unreachable!()
            };
            while items.len() <= *i {
                items.push(Node::new(Kind::Null, 0));
            }
            insert(&mut items[*i], rest, value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(arg: &str) -> serde_json::Value {
        parse_set(arg).unwrap().to_json()
    }

    #[test]
    fn nested_keys_and_types() {
        assert_eq!(
            json("backend.replicaCount=2,postgresql.enabled=false,backend.image.tag=18.0-x"),
            serde_json::json!({"backend": {"replicaCount": 2, "image": {"tag": "18.0-x"}}, "postgresql": {"enabled": false}})
        );
    }

    #[test]
    fn lists_and_indexes() {
        assert_eq!(
            json("backend.autoUpgrade.modules={sale,account,stock}"),
            serde_json::json!({"backend": {"autoUpgrade": {"modules": ["sale", "account", "stock"]}}})
        );
        assert_eq!(
            json("ingress.hosts[0].host=a.example.com,ingress.hosts[0].paths[0].path=/"),
            serde_json::json!({"ingress": {"hosts": [{"host": "a.example.com", "paths": [{"path": "/"}]}]}})
        );
    }

    #[test]
    fn escaped_dots_and_commas() {
        assert_eq!(
            json(r"ingress.annotations.cert-manager\.io/cluster-issuer=le"),
            serde_json::json!({"ingress": {"annotations": {"cert-manager.io/cluster-issuer": "le"}}})
        );
        assert_eq!(json(r"a=x\,y"), serde_json::json!({"a": "x,y"}));
    }

    #[test]
    fn strings_that_look_like_numbers() {
        assert_eq!(json("a=007"), serde_json::json!({"a": "007"}));
        assert_eq!(json("a=1.5"), serde_json::json!({"a": "1.5"}));
        assert_eq!(json("a="), serde_json::json!({"a": ""}));
    }

    #[test]
    fn bad_syntax_is_refused_with_the_argument() {
        for bad in [
            "noequals",
            "a..b=1",
            "a[x]=1",
            "a[0=1",
            "list={a,b",
            "[0]=x",
            "=x",
            "a}=1",
        ] {
            let e = parse_set(bad).unwrap_err();
            assert!(e.contains("--set"), "{bad}: {e}");
        }
    }
}

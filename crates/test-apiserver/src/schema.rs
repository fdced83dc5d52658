//! The little schema knowledge the server needs: how lists merge (server-side apply
//! list types and strategic-merge-patch keys), keyed by the list's field name.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum ListType {
    /// Replaced as a whole.
    Atomic,
    /// A list of scalars merged as a set.
    Set,
    /// A list of objects identified by these keys.
    Map(Vec<&'static str>),
}

/// How the list found at field `name` merges. `items` helps tell container ports from
/// service ports.
pub fn list_type(name: &str, items: &[Value]) -> ListType {
    match name {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims" => ListType::Map(vec!["name"]),
        "ports" => {
            if items.iter().any(|i| i.get("containerPort").is_some()) {
                ListType::Map(vec!["containerPort", "protocol"])
            } else if items.iter().all(|i| i.get("port").is_some()) && !items.is_empty() {
                ListType::Map(vec!["port", "protocol"])
            } else {
                ListType::Atomic
            }
        }
        "volumeMounts" => ListType::Map(vec!["mountPath"]),
        "volumeDevices" => ListType::Map(vec!["devicePath"]),
        "conditions" => ListType::Map(vec!["type"]),
        "ownerReferences" => ListType::Map(vec!["uid"]),
        "hostAliases" => ListType::Map(vec!["ip"]),
        "topologySpreadConstraints" => ListType::Map(vec!["topologyKey", "whenUnsatisfiable"]),
        "finalizers" => ListType::Set,
        _ => ListType::Atomic,
    }
}

/// Default values of key fields when an item leaves them out.
pub fn key_default(key: &str) -> Option<Value> {
    match key {
        "protocol" => Some(Value::String("TCP".into())),
        _ => None,
    }
}

/// The key value of `item` for `keys`, with defaults filled in, as a sorted JSON object.
pub fn item_key(item: &Value, keys: &[&str]) -> Value {
    let mut sorted: Vec<&&str> = keys.iter().collect();
    sorted.sort();
    let mut m = serde_json::Map::new();
    for k in sorted {
        if let Some(v) = item.get(*k).cloned().or_else(|| key_default(k)) {
            m.insert(k.to_string(), v);
        }
    }
    Value::Object(m)
}

/// The strategic-merge-patch merge key for a list (the first SSA key), if it merges.
pub fn smp_merge_key(name: &str, items: &[Value]) -> Option<&'static str> {
    match list_type(name, items) {
        ListType::Map(keys) => keys.first().copied(),
        _ => None,
    }
}

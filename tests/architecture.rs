//! The dependency rule of docs/ARCHITECTURE.md, checked on the source: the cores import
//! no IO layer (nor kube's client), every import goes down the layers (cores → cluster →
//! instance → cmd), and no two top-level modules import each other, directly or not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every top-level module of `src/` and its layer: a module may import only modules of
/// its own layer or below. A new module must be added here (the test says so).
const LAYERS: &[(&str, u8)] = &[
    ("error", 0),
    ("text", 0),
    ("time", 0),
    ("credentials", 1),
    ("output", 1),
    ("plain", 1),
    ("plan", 1),
    ("presets", 1),
    ("render", 1),
    ("status", 1),
    ("tui", 1),
    ("values", 1),
    ("wizard", 1),
    ("cluster", 2),
    ("instance", 3),
    ("cli", 4),
    ("cmd", 5),
];

/// The pure cores, and what they must never import.
const CORES: &[&str] = &["values", "render", "status", "plan", "wizard"];
const NOT_FOR_CORES: &[&str] = &["cluster", "cmd", "instance", "tui", "cli"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for lib.rs and main.rs).
fn module_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// Source without comments, so that prose such as "see crate::cluster" does not count.
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names through `crate::`, including groups such
/// as `use crate::{a, b::c}`.
fn crate_imports(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `odoo_tui_crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group, up to its closing brace.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 && c == ',' {
                    push_first(&item, &mut out);
                    item.clear();
                } else {
                    item.push(c);
                }
            }
            push_first(&item, &mut out);
        } else {
            push_first(rest, &mut out);
        }
    }
    out
}

fn push_first(path: &str, out: &mut BTreeSet<String>) {
    let name: String = path
        .trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if !name.is_empty() && name != "self" && name.chars().next().is_some_and(char::is_lowercase) {
        out.insert(name);
    }
}

/// Whether code uses kube's client crate (`kube::`), not just a variable named `kube`.
fn uses_kube_crate(code: &str) -> bool {
    code.match_indices("kube::").any(|(i, _)| {
        !code[..i]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
    })
}

struct Graph {
    /// module → (imported module → the files that import it)
    edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    kube_users: BTreeMap<String, BTreeSet<String>>,
}

fn graph() -> Graph {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let mut kube_users: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&file) else {
            continue;
        };
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        let shown = file.strip_prefix(src()).unwrap().display().to_string();
        let entry = edges.entry(module.clone()).or_default();
        for import in crate_imports(&code) {
            if import != module {
                entry.entry(import).or_default().insert(shown.clone());
            }
        }
        if uses_kube_crate(&code) {
            kube_users.entry(module).or_default().insert(shown);
        }
    }
    Graph { edges, kube_users }
}

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

#[test]
fn the_import_finder_reads_single_and_grouped_imports() {
    let code = "use crate::values::{self, Loaded};\nuse crate::{Error, plain, status::Snapshot};\nlet x = crate::time::now();\nmy_crate::cluster::x();";
    let found: Vec<String> = crate_imports(code).into_iter().collect();
    assert_eq!(found, ["plain", "status", "time", "values"]);
    assert!(uses_kube_crate("use kube::api::ListParams;"));
    assert!(!uses_kube_crate("let ns = self.kube::<x>; kube.namespace"));
    assert_eq!(code_of("use a; // crate::cluster"), "use a; ");
}

#[test]
fn every_module_has_a_layer() {
    let g = graph();
    let unknown: Vec<&String> = g.edges.keys().filter(|m| layer(m).is_none()).collect();
    assert!(
        unknown.is_empty(),
        "add these modules to LAYERS in tests/architecture.rs and docs/ARCHITECTURE.md: {unknown:?}"
    );
}

#[test]
fn the_cores_import_no_io_layer_and_not_kubes_client() {
    let g = graph();
    let mut problems = Vec::new();
    for core in CORES {
        for (import, files) in g.edges.get(*core).into_iter().flatten() {
            if NOT_FOR_CORES.contains(&import.as_str()) {
                problems.push(format!("{core} imports {import} in {files:?}"));
            }
        }
        if let Some(files) = g.kube_users.get(*core) {
            problems.push(format!("{core} uses kube's client in {files:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn imports_go_down_the_layers() {
    let g = graph();
    let mut problems = Vec::new();
    for (module, imports) in &g.edges {
        let Some(own) = layer(module) else {
            continue;
        };
        for (import, files) in imports {
            if layer(import).is_some_and(|l| l > own) {
                problems.push(format!(
                    "{module} (layer {own}) imports {import} (layer {}) in {files:?}",
                    layer(import).unwrap()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let g = graph();
    // Depth-first search; a module met again on the current path closes a cycle.
    fn visit(
        m: &str,
        g: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut Vec<String>,
    ) {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_string());
            cycles.push(cycle.join(" → "));
            return;
        }
        if !done.insert(m.to_string()) {
            return;
        }
        path.push(m.to_string());
        for next in g.edges.get(m).into_iter().flat_map(|e| e.keys()) {
            visit(next, g, path, done, cycles);
        }
        path.pop();
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for m in g.edges.keys() {
        visit(m, &g, &mut Vec::new(), &mut done, &mut cycles);
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

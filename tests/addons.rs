//! The user's own modules, fetched for real: the `fetch-addons` init container's script
//! as rendered, run under a real `dash` with the real `git` against repositories this
//! test creates and serves itself: public ones through `git daemon` (git://), a private
//! one over HTTPS behind a token (`git http-backend` behind Basic authentication, see
//! `tests/scripts/git_https.py`). No network beyond 127.0.0.1.

#[path = "scripts/harness.rs"]
mod harness;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use harness::{Case, Run, RunOpts, generated, load, pg};
use odoo_tui::status::{CauseKind, Evidence, classify};

macro_rules! need_pg {
    () => {
        match pg() {
            Some(p) => p,
            None => return,
        }
    };
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Repositories served from one folder: `<root>/<name>.git` (bare), each with a working
/// copy to commit in.
struct Repos {
    dir: tempfile::TempDir,
}

impl Repos {
    fn new() -> Repos {
        Repos {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("served")
    }

    fn work(&self, name: &str) -> PathBuf {
        self.dir.path().join("work").join(name)
    }

    /// Write `files` into the working copy of `name` (created on first use), commit, push
    /// `main` to the served repository; the commit id.
    fn commit(&self, name: &str, files: &[(&str, &str)]) -> String {
        let work = self.work(name);
        let bare = self.root().join(format!("{name}.git"));
        if !work.exists() {
            std::fs::create_dir_all(&work).unwrap();
            git(&work, &["init", "-q", "-b", "main"]);
            std::fs::create_dir_all(&bare).unwrap();
            git(&bare, &["init", "-q", "--bare"]);
            git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        }
        for (path, text) in files {
            let f = work.join(path);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, text).unwrap();
        }
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "change"]);
        git(&work, &["push", "-q", "origin", "main"]);
        git(&work, &["rev-parse", "HEAD"])
    }

    fn tag(&self, name: &str, tag: &str) {
        let work = self.work(name);
        git(&work, &["tag", "-a", "-m", tag, tag]);
        git(&work, &["push", "-q", "origin", tag]);
    }
}

fn manifest(name: &str) -> String {
    format!("{{'name': '{name}', 'version': '18.0.1.0.0', 'depends': ['base']}}\n")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process, stopped with the test.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `git daemon` serving every repository of `repos` read-only over git://.
fn git_daemon(repos: &Repos) -> Server {
    let port = free_port();
    let child = Command::new("git")
        .args([
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--informative-errors",
        ])
        .arg(format!("--base-path={}", repos.root().display()))
        .args(["--listen=127.0.0.1", &format!("--port={port}")])
        .arg(repos.root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("git daemon starts");
    // Stopped by its drop, whether it comes up or not.
    let server = Server { child, port };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("git daemon did not listen on {port}");
}

/// The private HTTPS server: its certificate (to trust) and the server.
fn git_https(repos: &Repos, user: &str, token: &str) -> (PathBuf, Server) {
    let cert = repos.dir.path().join("cert.pem");
    let key = repos.dir.path().join("key.pem");
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/git_https.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(repos.root())
        .arg(&cert)
        .arg(&key)
        .args([user, token])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the HTTPS git server starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().parse().expect("the server prints its port");
    (cert, Server { child, port })
}

/// The values of `sources` (`(name, repo, ref, path, secret)`) as one `--set`.
fn sets(sources: &[(&str, &str, &str, &str, &str)]) -> String {
    let mut parts = Vec::new();
    for (i, (name, repo, r, path, secret)) in sources.iter().enumerate() {
        parts.push(format!("backend.addons[{i}].name={name}"));
        parts.push(format!("backend.addons[{i}].repo={repo}"));
        parts.push(format!("backend.addons[{i}].ref={r}"));
        if !path.is_empty() {
            parts.push(format!("backend.addons[{i}].path={path}"));
        }
        if !secret.is_empty() {
            parts.push(format!("backend.addons[{i}].secret={secret}"));
        }
    }
    parts.join(",")
}

fn case_with(sources: &[(&str, &str, &str, &str, &str)]) -> Case {
    let set = sets(sources);
    let v = load("local-dev", std::slice::from_ref(&set));
    Case::new("local-dev", &[set.as_str()], generated(&v))
}

/// Run the init Job's `fetch-addons` container; the folder its addons volume is.
fn fetch(c: &Case, opts: &RunOpts) -> (Run, PathBuf) {
    let job = c.job("init");
    let r = c.run(&job, "fetch-addons", opts);
    (r, c.path("pods/acme-odoo-init/vol-addons"))
}

/// Every file under `dir`, with its text (lossy).
fn all_text(dir: &Path) -> String {
    let mut out = String::new();
    for e in walk(dir) {
        if let Ok(b) = std::fs::read(&e) {
            out.push_str(&String::from_utf8_lossy(&b));
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_public_source_at_a_tag_is_fetched_into_the_folder_on_addons_path() {
    need_pg!();
    let repos = Repos::new();
    repos.commit(
        "shop",
        &[
            ("README.md", "shop modules\n"),
            ("addons/shop_base/__manifest__.py", &manifest("Shop")),
            ("addons/shop_extra/__manifest__.py", &manifest("Extra")),
            ("addons/not_a_module/notes.txt", "x\n"),
        ],
    );
    repos.tag("shop", "v1.0.0");
    let tagged = git(&repos.work("shop"), &["rev-parse", "HEAD"]);
    // Later work on the branch is not what the tag names.
    repos.commit(
        "shop",
        &[("addons/shop_later/__manifest__.py", &manifest("Later"))],
    );
    let d = git_daemon(&repos);
    let url = format!("git://127.0.0.1:{}/shop.git", d.port);
    let c = case_with(&[("shop", &url, "v1.0.0", "addons", "")]);

    let (r, dir) = fetch(&c, &RunOpts::default());
    assert!(r.ok(), "{r}");
    // The folder odoo.conf puts on addons_path, as mounted in this pod.
    let on_path = dir.join("shop/addons");
    assert!(on_path.join("shop_base/__manifest__.py").is_file(), "{r}");
    assert!(on_path.join("shop_extra/__manifest__.py").is_file(), "{r}");
    assert!(!on_path.join("shop_later").exists(), "{r}");
    assert!(
        c.secret("acme-odoo-config", "odoo.conf")
            .unwrap()
            .contains("addons_path = /mnt/extra-addons,/mnt/odoo-tui/addons/shop/addons\n")
    );
    assert!(
        r.stdout
            .contains(&format!("source shop: {url} tag v1.0.0 at commit {tagged}")),
        "{r}"
    );
    assert!(r.stdout.contains("2 module(s) in folder addons"), "{r}");
    assert_eq!(
        std::fs::read_to_string(dir.join(".sources")).unwrap(),
        format!("shop v1.0.0 {tagged}\n")
    );
    let modules = std::fs::read_to_string(dir.join(".modules")).unwrap();
    let names: Vec<&str> = modules
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(names, ["shop_base", "shop_extra"], "{modules}");

    // A restarted init container starts again from nothing and gets the same.
    let (again, _) = fetch(&c, &RunOpts::default());
    assert!(again.ok(), "{again}");
    assert_eq!(
        std::fs::read_to_string(dir.join(".modules")).unwrap(),
        modules
    );
}

#[test]
fn a_commit_is_fetched_by_id_and_a_branch_is_fetched_with_a_warning_that_it_floats() {
    need_pg!();
    let repos = Repos::new();
    let first = repos.commit("one", &[("one_a/__manifest__.py", &manifest("A"))]);
    repos.commit("one", &[("one_b/__manifest__.py", &manifest("B"))]);
    let tip = repos.commit("two", &[("two_a/__manifest__.py", &manifest("T"))]);
    let d = git_daemon(&repos);
    let one = format!("git://127.0.0.1:{}/one.git", d.port);
    let two = format!("git://127.0.0.1:{}/two.git", d.port);
    let c = case_with(&[("one", &one, &first, "", ""), ("two", &two, "main", "", "")]);

    let (r, dir) = fetch(&c, &RunOpts::default());
    assert!(r.ok(), "{r}");
    assert!(dir.join("one/one_a/__manifest__.py").is_file(), "{r}");
    assert!(!dir.join("one/one_b").exists(), "{r}");
    assert!(dir.join("two/two_a/__manifest__.py").is_file(), "{r}");
    assert_eq!(
        std::fs::read_to_string(dir.join(".sources")).unwrap(),
        format!("one {first} {first}\ntwo main {tip}\n")
    );
    assert!(
        r.stderr
            .contains("warning: source two: main is a branch of")
            && r.stderr.contains("it floats"),
        "{r}"
    );
    assert!(!r.stderr.contains("source one: warning"), "{r}");
}

/// What the live view makes of a failed fetch: the classifier on the log tail.
fn cause_of(r: &Run) -> Option<(CauseKind, Option<String>)> {
    let log: Vec<String> = r.stderr.lines().map(str::to_string).collect();
    classify(&Evidence {
        log: &log,
        reason: Some("Error"),
        exit_code: Some(r.code),
        ..Default::default()
    })
    .map(|c| (c.kind, c.facts.source))
}

/// Run a case expected to fail; its stderr, checked to end with the line naming the
/// source and to give the cause `kind` naming that source.
fn failure(sources: &[(&str, &str, &str, &str, &str)], source: &str, kind: CauseKind) -> String {
    let c = case_with(sources);
    let (r, _) = fetch(&c, &RunOpts::default());
    assert!(!r.ok(), "{r}");
    let last = r.stderr.lines().last().unwrap_or_default().to_string();
    assert!(
        last.starts_with(&format!("odoo-tui addons: source {source}: ")),
        "{r}"
    );
    assert_eq!(cause_of(&r), Some((kind, Some(source.to_string()))), "{r}");
    r.stderr
}

#[test]
fn each_bad_source_fails_before_odoo_starts_naming_the_source() {
    need_pg!();
    let repos = Repos::new();
    repos.commit(
        "shop",
        &[
            ("docs/index.md", "docs\n"),
            ("shop_base/__manifest__.py", &manifest("Shop")),
        ],
    );
    repos.tag("shop", "v1");
    repos.commit("other", &[("shop_base/__manifest__.py", &manifest("Fork"))]);
    repos.tag("other", "v1");
    repos.commit(
        "single",
        &[("__manifest__.py", &manifest("Single")), ("models.py", "")],
    );
    repos.tag("single", "v1");
    let d = git_daemon(&repos);
    let url = |n: &str| format!("git://127.0.0.1:{}/{n}.git", d.port);

    let e = failure(
        &[("shop", &url("shop"), "v2", "", "")],
        "shop",
        CauseKind::AddonRefMissing,
    );
    assert!(e.contains("has no tag or branch named v2"), "{e}");

    let e = failure(
        &[("shop", &url("shop"), "v1", "docs", "")],
        "shop",
        CauseKind::AddonNoModules,
    );
    assert!(
        e.contains("no module in folder docs of") && e.contains("__manifest__.py"),
        "{e}"
    );

    let e = failure(
        &[("shop", &url("shop"), "v1", "addons", "")],
        "shop",
        CauseKind::AddonNoModules,
    );
    assert!(e.contains("has no folder addons at v1"), "{e}");

    let e = failure(
        &[
            ("shop", &url("shop"), "v1", "", ""),
            ("fork", &url("other"), "v1", "", ""),
        ],
        "fork",
        CauseKind::AddonModuleTwice,
    );
    assert!(e.contains("module shop_base is also in source shop"), "{e}");

    let e = failure(
        &[("single", &url("single"), "v1", "", "")],
        "single",
        CauseKind::AddonNoModules,
    );
    assert!(e.contains("is itself a module"), "{e}");

    let e = failure(
        &[("gone", &url("missing"), "v1", "", "")],
        "gone",
        CauseKind::AddonRepositoryNotFound,
    );
    assert!(e.contains("cannot read git://"), "{e}");
    // git's own reason is in the log tail, for the classifier and the user.
    assert!(e.contains("fatal:"), "{e}");

    let closed = format!("git://127.0.0.1:{}/shop.git", free_port());
    let e = failure(
        &[("down", &closed, "v1", "", "")],
        "down",
        CauseKind::AddonSourceUnreachable,
    );
    assert!(
        e.contains("cannot read") && e.contains("Connection refused"),
        "{e}"
    );
}

#[test]
fn a_private_source_is_fetched_with_its_token_which_is_never_shown() {
    need_pg!();
    let token = "ghp_TokenThatMustNeverShow1234";
    let repos = Repos::new();
    let commit = repos.commit(
        "private",
        &[("acme_sale/__manifest__.py", &manifest("Sale"))],
    );
    repos.tag("private", "v3.1.0");
    let (cert, server) = git_https(&repos, "deploy", token);
    let url = format!("https://127.0.0.1:{}/private.git", server.port);
    let trust = RunOpts {
        env: vec![("GIT_SSL_CAINFO".into(), cert.display().to_string())],
        ..Default::default()
    };
    let secret = |password: &str| {
        std::collections::BTreeMap::from([
            ("username".to_string(), "deploy".to_string()),
            ("password".to_string(), password.to_string()),
        ])
    };

    let mut c = case_with(&[("acme", &url, "v3.1.0", "", "acme-git")]);
    c.existing.insert("acme-git".into(), secret(token));
    let (r, dir) = fetch(&c, &trust);
    assert!(r.ok(), "{r}");
    assert!(dir.join("acme/acme_sale/__manifest__.py").is_file(), "{r}");
    assert!(r.stdout.contains(&format!("at commit {commit}")), "{r}");
    let tmp = c.path("pods/acme-odoo-init/vol-tmp");
    for (what, text) in [
        ("output", format!("{}{}", r.stdout, r.stderr)),
        ("addons volume", all_text(&dir)),
        ("tmp volume", all_text(&tmp)),
    ] {
        assert!(!text.contains(token), "the token is in the {what}");
    }

    // A wrong token: a clear failure naming the source, git's reason, no token.
    let wrong = "ghp_WrongTokenAlsoNeverShown";
    let mut c = case_with(&[("acme", &url, "v3.1.0", "", "acme-git")]);
    c.existing.insert("acme-git".into(), secret(wrong));
    let (r, _) = fetch(&c, &trust);
    assert!(!r.ok(), "{r}");
    assert!(
        r.stderr.contains("Authentication failed")
            && r.stderr
                .contains("odoo-tui addons: source acme: cannot read"),
        "{r}"
    );
    assert!(!format!("{}{}", r.stdout, r.stderr).contains(wrong), "{r}");
    assert_eq!(
        cause_of(&r),
        Some((CauseKind::AddonSourceAuthFailed, Some("acme".into()))),
        "{r}"
    );

    // No Secret at all: git does not wait for a prompt, it fails at once.
    let c = case_with(&[("acme", &url, "v3.1.0", "", "")]);
    let (r, _) = fetch(&c, &trust);
    assert!(!r.ok(), "{r}");
    assert!(r.stderr.contains("source acme: cannot read"), "{r}");
}

/// `upgrade --changed`'s decision on real folders: the hashes the fetch script writes
/// for two tags of a repository, compared as after an upgrade at the first tag.
#[test]
fn the_modules_whose_code_or_version_changed_between_two_refs_are_found() {
    use odoo_tui::plan::addons::{Why, changed, parse_hashes};
    need_pg!();
    let repos = Repos::new();
    let versioned = |name: &str, v: &str| {
        format!("{{\n    'name': '{name}',\n    'version': '{v}',\n    'depends': ['base'],\n}}\n")
    };
    repos.commit(
        "shop",
        &[
            (
                "shop_same/__manifest__.py",
                &versioned("Same", "18.0.1.0.0"),
            ),
            ("shop_same/models.py", "x = 1\n"),
            (
                "shop_edit/__manifest__.py",
                &versioned("Edit", "18.0.1.0.0"),
            ),
            ("shop_edit/models.py", "x = 1\n"),
            ("shop_bump/__manifest__.py", &versioned("Bump", "1.0.0")),
        ],
    );
    repos.tag("shop", "v1");
    repos.commit(
        "shop",
        &[
            // Compiled Python is not code that changed.
            ("shop_same/__pycache__/models.cpython-312.pyc", "bytes"),
            ("shop_edit/models.py", "x = 2\n"),
            ("shop_bump/__manifest__.py", &versioned("Bump", "1.1.0")),
        ],
    );
    repos.tag("shop", "v2");
    let d = git_daemon(&repos);
    let url = format!("git://127.0.0.1:{}/shop.git", d.port);
    let hashes_with = |r: &str, opts: &RunOpts| {
        let c = case_with(&[("shop", &url, r, "", "")]);
        let (run, dir) = fetch(&c, opts);
        assert!(run.ok(), "{run}");
        std::fs::read_to_string(dir.join(".hashes")).unwrap()
    };
    let hashes = |r: &str| hashes_with(r, &RunOpts::default());
    let v1 = parse_hashes(&hashes("v1"));
    // The git image's tools are busybox's: they give the same hashes.
    let applets = repos.dir.path().join("busybox-applets");
    std::fs::create_dir_all(&applets).unwrap();
    for a in [
        "find",
        "sort",
        "xargs",
        "sha256sum",
        "sed",
        "awk",
        "grep",
        "tail",
        "cut",
        "head",
    ] {
        std::os::unix::fs::symlink("/usr/bin/busybox", applets.join(a)).unwrap();
    }
    let busybox = RunOpts {
        path_first: vec![applets],
        ..Default::default()
    };
    assert_eq!(parse_hashes(&hashes_with("v1", &busybox)), v1);
    assert_eq!(
        parse_hashes(&hashes("v1")),
        v1,
        "the same ref, the same hashes"
    );
    // As recorded after `-i` at v1.
    let recorded = v1
        .iter()
        .map(|m| (m.name.clone(), m.hash.clone()))
        .collect();
    let installed = v1
        .iter()
        .map(|m| {
            let v = odoo_tui::plan::addons::adapt_version(m.version.as_deref().unwrap());
            (m.name.clone(), v)
        })
        .collect();
    assert!(changed(&v1, &installed, &recorded).is_empty());

    let v2 = parse_hashes(&hashes("v2"));
    assert_eq!(
        changed(&v2, &installed, &recorded),
        [
            (
                "shop_bump".to_string(),
                Why::NewerVersion {
                    installed: "18.0.1.0.0".into(),
                    manifest: "18.0.1.1.0".into()
                }
            ),
            ("shop_edit".to_string(), Why::CodeChanged),
        ],
        "{v2:?}"
    );
}

/// A wheel of one pure-Python package, built by hand into `dir` (what an index serves).
fn wheel(dir: &Path, dist: &str, module: &str, version: &str) {
    let script = r#"
import base64, hashlib, sys, zipfile
out, dist, module, version = sys.argv[1:5]
info = f"{dist.replace('-', '_')}-{version}.dist-info"
files = {
    f"{module}/__init__.py": f"VERSION = {version!r}\n",
    f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: odoo-tui-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
for name, text in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    record.append(f"{name},sha256={digest},{len(text.encode())}")
record.append(f"{info}/RECORD,,")
files[f"{info}/RECORD"] = "\n".join(record) + "\n"
with zipfile.ZipFile(f"{out}/{dist.replace('-', '_')}-{version}-py3-none-any.whl", "w") as z:
    for name, text in files.items():
        z.writestr(name, text)
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(dir)
        .args([dist, module, version])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_sources_python_requirements_are_installed_as_wheels_and_a_missing_one_is_named() {
    need_pg!();
    let repos = Repos::new();
    let with_deps = |deps: &str| {
        format!(
            "{{'name': 'Shop', 'version': '18.0.1.0.0', 'external_dependencies': {{'python': [{deps}]}}}}\n"
        )
    };
    repos.commit(
        "shop",
        &[
            ("requirements.txt", "odoo-tui-demo-root==2.0\n"),
            ("shop_base/__manifest__.py", &with_deps("'odoo-tui-demo'")),
            // Already in the image: not installed again.
            ("shop_json/__manifest__.py", &with_deps("'json'")),
        ],
    );
    repos.tag("shop", "v1");
    repos.commit(
        "shop",
        &[(
            "shop_native/__manifest__.py",
            &with_deps("'odoo-tui-native'"),
        )],
    );
    repos.tag("shop", "v2");
    let index = repos.dir.path().join("index");
    std::fs::create_dir_all(&index).unwrap();
    wheel(&index, "odoo-tui-demo", "odoo_tui_demo", "1.0");
    wheel(&index, "odoo-tui-demo-root", "odoo_tui_demo_root", "2.0");
    // The index of this test: the wheels above and nothing else.
    let opts = RunOpts {
        env: vec![
            ("PIP_NO_INDEX".into(), "1".into()),
            ("PIP_FIND_LINKS".into(), index.display().to_string()),
        ],
        ..Default::default()
    };
    let d = git_daemon(&repos);
    let url = format!("git://127.0.0.1:{}/shop.git", d.port);

    let c = case_with(&[("shop", &url, "v1", "", "")]);
    let job = c.job("init");
    let pod = c.run_pod(&job, &opts);
    assert_eq!(pod.ran()[..2], ["fetch-addons", "addons-python"], "{pod}");
    let (_, r) = &pod.runs[1];
    assert!(r.ok(), "{pod}");
    let python = c.path("pods/acme-odoo-init/vol-addons-python");
    assert!(python.join("odoo_tui_demo/__init__.py").is_file(), "{pod}");
    assert!(
        python.join("odoo_tui_demo_root/__init__.py").is_file(),
        "{pod}"
    );
    assert!(!r.stdout.contains("json"), "{pod}");
    // Odoo's container finds them on PYTHONPATH.
    let out = Command::new("python3")
        .args([
            "-c",
            "import odoo_tui_demo, odoo_tui_demo_root; print(odoo_tui_demo.VERSION)",
        ])
        .env("PYTHONPATH", &python)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1.0\n");

    let c = case_with(&[("shop", &url, "v2", "", "")]);
    let pod = c.run_pod(&c.job("init"), &opts);
    assert_eq!(pod.failed(), Some("addons-python"), "{pod}");
    let last = pod.stderr().lines().last().unwrap_or_default().to_string();
    assert!(
        last.starts_with("odoo-tui addons: Python package odoo-tui-native cannot be installed with pip as a wheel: build a custom image"),
        "{pod}"
    );
    let log: Vec<String> = pod.runs[1].1.stderr.lines().map(str::to_string).collect();
    let cause = classify(&Evidence {
        log: &log,
        ..Default::default()
    })
    .expect("a known cause");
    assert_eq!(cause.kind, CauseKind::AddonPythonPackage);
    assert_eq!(cause.facts.module.as_deref(), Some("odoo-tui-native"));
}

//! Checks on `backend.addons`, the git sources of the user's own modules (README "Your
//! own modules"). Every value here ends up in a script's environment, in a path and in
//! `addons_path`, so each is held to a strict form; none may carry a credential.

use super::validate::Problem;
use super::{AddonSource, RepoKind, Values};

fn problem(path: String, message: String, is_error: bool) -> Problem {
    Problem {
        path,
        message,
        is_error,
        also: Vec::new(),
    }
}

/// A DNS label: a source's name is a folder, a projected path and a word in messages.
fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A Secret's name (a DNS subdomain).
fn is_secret_name(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label)
}

/// Characters a repository URL may hold: no space, quote, backslash or shell
/// metacharacter, so that it reads as one word in the fetch script.
fn repo_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/@%+=".contains(c)
}

/// A tag, branch or commit as git accepts it (`git check-ref-format`), narrowed to the
/// characters a ref name needs.
fn is_ref(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._/+".contains(c))
        && !s.starts_with(['-', '/', '.'])
        && !s.ends_with(['/', '.'])
        && !s.ends_with(".lock")
        && !s.contains("..")
        && !s.contains("//")
        && !s.contains("/.")
}

/// A folder inside the repository: relative, no `..`, no hidden parts.
fn is_folder(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._/".contains(c))
        && !s.starts_with('/')
        && !s.split('/').any(|p| p.is_empty() || p.starts_with('.'))
}

/// Names that are branches in almost every repository (`main`, `18.0`, ...).
fn looks_like_branch(r: &str) -> bool {
    matches!(r, "main" | "master" | "develop" | "dev" | "HEAD")
        || r.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.chars().all(|c| c.is_ascii_digit())
                && b.chars().all(|c| c.is_ascii_digit())
        })
}

/// The user name and password of an `https://user:token@host` URL, if any.
fn has_userinfo(repo: &str) -> bool {
    let Some((_, rest)) = repo.split_once("://") else {
        return false;
    };
    rest.split('/').next().is_some_and(|a| a.contains('@'))
}

pub(super) fn check(v: &Values, p: &mut Vec<Problem>) {
    let mut names: Vec<&str> = Vec::new();
    for (i, s) in v.backend.addons.iter().enumerate() {
        let key = |f: &str| format!("backend.addons.{i}.{f}");
        if !is_label(&s.name) {
            p.push(problem(
                key("name"),
                format!(
                    "`{}` `{}` must be a short name of lowercase letters, digits and - (it names the source's folder)",
                    key("name"),
                    s.name
                ),
                true,
            ));
        } else if names.contains(&s.name.as_str()) {
            p.push(problem(
                key("name"),
                format!(
                    "two sources in `backend.addons` are named `{}`: give each its own name",
                    s.name
                ),
                true,
            ));
        } else {
            names.push(&s.name);
        }
        check_repo(s, &key("repo"), p);
        if !is_ref(&s.ref_) {
            p.push(problem(
                key("ref"),
                format!(
                    "`{}` must be a tag or a full commit id of {} (e.g. v1.2.0 or a 40-character commit)",
                    key("ref"),
                    source_label(s)
                ),
                true,
            ));
        } else if !s.ref_is_commit() && looks_like_branch(&s.ref_) {
            p.push(problem(
                key("ref"),
                format!(
                    "`{}` `{}` looks like a branch: it floats, so each pod may get other code and `upgrade --changed` cannot tell what changed — pin a tag or a commit",
                    key("ref"),
                    s.ref_
                ),
                false,
            ));
        }
        if !is_folder(&s.path) && !s.path.is_empty() {
            p.push(problem(
                key("path"),
                format!(
                    "`{}` `{}` must be a folder inside the repository (relative, no `..`, e.g. addons)",
                    key("path"),
                    s.path
                ),
                true,
            ));
        }
        if !s.secret.is_empty() && !is_secret_name(&s.secret) {
            p.push(problem(
                key("secret"),
                format!("`{}` `{}` is not a Secret name", key("secret"), s.secret),
                true,
            ));
        }
        if !s.secret.is_empty() && s.kind() == Some(RepoKind::Git) {
            p.push(problem(
                key("secret"),
                format!(
                    "`{}`: git:// has no authentication — use an https:// or ssh:// URL for a private repository",
                    key("secret")
                ),
                true,
            ));
        }
    }
}

fn source_label(s: &AddonSource) -> String {
    if s.name.is_empty() {
        "the source".to_string()
    } else {
        format!("source `{}`", s.name)
    }
}

fn check_repo(s: &AddonSource, key: &str, p: &mut Vec<Problem>) {
    let r = &s.repo;
    // Never echo a URL that holds a credential.
    if s.kind() == Some(RepoKind::Https) && has_userinfo(r) {
        p.push(problem(
            key.to_string(),
            format!(
                "`{key}` has a user name or token in it: never put a credential in the URL — put it in a Secret named by `secret` (keys `username` and `password`)"
            ),
            true,
        ));
        return;
    }
    if r.is_empty() || !r.chars().all(repo_char) || s.kind().is_none() {
        p.push(problem(
            key.to_string(),
            format!(
                "`{key}` must be a git URL: https://host/owner/repo.git, ssh://git@host/owner/repo.git or git@host:owner/repo.git"
            ),
            true,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(repo: &str, ref_: &str) -> AddonSource {
        AddonSource {
            name: "mods".into(),
            repo: repo.into(),
            ref_: ref_.into(),
            ..Default::default()
        }
    }

    fn problems(sources: Vec<AddonSource>) -> Vec<Problem> {
        let mut v = super::super::defaults();
        v.backend.addons = sources;
        let mut p = Vec::new();
        check(&v, &mut p);
        p
    }

    #[test]
    fn the_three_kinds_of_url_are_read() {
        assert_eq!(
            source("https://github.com/OCA/web.git", "x").kind(),
            Some(RepoKind::Https)
        );
        assert_eq!(
            source("ssh://git@example.com:2222/a/b.git", "x").kind(),
            Some(RepoKind::Ssh)
        );
        assert_eq!(
            source("git@github.com:acme/mods.git", "x").kind(),
            Some(RepoKind::Ssh)
        );
        assert_eq!(
            source("git://example.com/a.git", "x").kind(),
            Some(RepoKind::Git)
        );
        assert_eq!(source("http://example.com/a.git", "x").kind(), None);
        assert_eq!(source("/srv/a.git", "x").kind(), None);
    }

    #[test]
    fn a_good_source_has_no_problem() {
        let p = problems(vec![AddonSource {
            path: "addons/acme".into(),
            secret: "acme-git".into(),
            ..source(
                "git@github.com:acme/mods.git",
                "3f1c0d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
            )
        }]);
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn a_token_in_the_url_is_refused_and_never_repeated() {
        let p = problems(vec![source(
            "https://bob:ghp_s3cr3t@github.com/acme/mods.git",
            "v1",
        )]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].is_error);
        assert!(!p[0].message.contains("s3cr3t"), "{}", p[0].message);
        assert!(p[0].message.contains("Secret"), "{}", p[0].message);
    }

    #[test]
    fn bad_names_refs_paths_and_urls_are_errors_naming_the_key() {
        let p = problems(vec![
            AddonSource {
                name: "Acme Mods".into(),
                path: "../etc".into(),
                ..source("https://example.com/a.git; rm -rf /", "-v1")
            },
            AddonSource {
                name: "oca".into(),
                secret: "oca".into(),
                ..source("git://example.com/a.git", "v1 x")
            },
        ]);
        let keys: Vec<&str> = p
            .iter()
            .filter(|p| p.is_error)
            .map(|p| p.path.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "backend.addons.0.name",
                "backend.addons.0.repo",
                "backend.addons.0.ref",
                "backend.addons.0.path",
                "backend.addons.1.ref",
                "backend.addons.1.secret",
            ]
        );
    }

    #[test]
    fn two_sources_of_one_name_are_refused() {
        let p = problems(vec![
            source("https://example.com/a.git", "v1"),
            source("https://example.com/b.git", "v1"),
        ]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "backend.addons.1.name");
    }

    #[test]
    fn a_branch_is_accepted_with_a_warning_that_it_floats() {
        for r in ["18.0", "main"] {
            let p = problems(vec![source("https://github.com/OCA/web.git", r)]);
            assert_eq!(p.len(), 1, "{p:?}");
            assert!(!p[0].is_error);
            assert!(p[0].message.contains("floats"), "{}", p[0].message);
        }
        assert!(
            problems(vec![source(
                "https://github.com/OCA/web.git",
                "v18.0.1.2.0"
            )])
            .is_empty()
        );
    }
}

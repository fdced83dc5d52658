//! A tiny `{{name}}` substitution for the templates in `assets/`, and a stable
//! checksum used to roll pods when their configuration changes.

/// Replace every `{{key}}` with its value in one pass (a value containing `{{x}}` is not
/// substituted again). Unknown placeholders are left as they are, which the tests of each
/// template catch.
pub fn fill<S: AsRef<str>>(template: &str, vars: &[(&str, S)]) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = &after[..end];
        match vars.iter().find(|(k, _)| *k == key) {
            Some((_, value)) => out.push_str(value.as_ref()),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// FNV-1a 64-bit of the text, as 16 hex digits: stable across runs and platforms.
pub fn checksum(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_occurrence() {
        assert_eq!(
            fill("{{a}}-{{b}}-{{a}}", &[("a", "1"), ("b", "2")]),
            "1-2-1"
        );
    }

    #[test]
    fn values_are_not_substituted_again() {
        assert_eq!(
            fill("{{a}} {{b}} {{c", &[("a", "{{b}}"), ("b", "x")]),
            "{{b}} x {{c"
        );
    }

    #[test]
    fn checksum_is_stable_and_sensitive() {
        assert_eq!(checksum("odoo"), checksum("odoo"));
        assert_ne!(checksum("odoo"), checksum("odoo "));
        assert_eq!(checksum("").len(), 16);
    }
}

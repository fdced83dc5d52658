//! A tiny `{{name}}` substitution for the templates in `assets/`, and a stable
//! checksum used to roll pods when their configuration changes.

/// Replace every `{{key}}` with its value. Unknown placeholders are left as they are,
/// which the tests of each template catch.
pub fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
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
            fill("{{a}}-{{b}}-{{a}}", &[("a", "1".into()), ("b", "2".into())]),
            "1-2-1"
        );
    }

    #[test]
    fn checksum_is_stable_and_sensitive() {
        assert_eq!(checksum("odoo"), checksum("odoo"));
        assert_ne!(checksum("odoo"), checksum("odoo "));
        assert_eq!(checksum("").len(), 16);
    }
}

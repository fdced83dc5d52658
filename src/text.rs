//! Untrusted text made safe for a terminal. Log lines, Event messages and the details a
//! cluster reports are written by programs we do not control: an escape sequence in them
//! could move the cursor, rewrite the screen, set the window title or hide text. Pure.

use std::borrow::Cow;

/// Columns between tab stops when a tab is expanded.
const TAB_WIDTH: usize = 4;

/// One line of untrusted text as it may be shown on a terminal:
/// - escape sequences (CSI such as colours and cursor moves, OSC such as window titles and
///   hyperlinks, DCS/APC/PM/SOS strings, and two-character escapes) are removed;
/// - a tab becomes spaces up to the next tab stop;
/// - a line break becomes a space (the caller shows one line);
/// - every other control character (C0, DEL, C1 — U+009B is a one-character CSI on some
///   terminals) and the Unicode direction overrides are shown escaped, e.g. `\x07`,
///   `\u{202e}`, so that nothing is hidden and nothing acts.
///
/// Text that needs no change is returned borrowed.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_care) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut column = 0usize;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            '\t' => {
                let n = TAB_WIDTH - column % TAB_WIDTH;
                out.extend(std::iter::repeat_n(' ', n));
                column += n;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                out.push(' ');
                column += 1;
            }
            c if is_control(c) || is_direction_override(c) => {
                let shown = if (c as u32) < 0x100 {
                    format!("\\x{:02x}", c as u32)
                } else {
                    format!("\\u{{{:x}}}", c as u32)
                };
                column += shown.len();
                out.push_str(&shown);
            }
            c => {
                out.push(c);
                column += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// [`terminal_safe`], owned.
pub fn safe_line(s: &str) -> String {
    terminal_safe(s).into_owned()
}

/// [`terminal_safe`] applied to every line.
pub fn safe_lines(lines: &[String]) -> Vec<String> {
    lines.iter().map(|l| safe_line(l)).collect()
}

fn needs_care(c: char) -> bool {
    c == '\t' || is_control(c) || is_direction_override(c)
}

fn is_control(c: char) -> bool {
    let n = c as u32;
    n < 0x20 || n == 0x7f || (0x80..=0x9f).contains(&n)
}

/// Characters that reorder the text around them (the "Trojan Source" characters).
fn is_direction_override(c: char) -> bool {
    matches!(c as u32, 0x202a..=0x202e | 0x2066..=0x2069 | 0x200e | 0x200f | 0x061c)
}

/// Skip the rest of an escape sequence whose ESC was just read (ECMA-48).
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        // CSI: parameters and intermediates, then one final byte 0x40–0x7e.
        Some('[') => {
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
        // OSC, DCS, SOS, PM, APC: a string ended by BEL or ST (ESC \).
        Some(']' | 'P' | 'X' | '^' | '_') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' {
                    if chars.peek() == Some(&'\\') {
                        chars.next();
                    }
                    break;
                }
            }
        }
        // Character-set designations take one more character (`ESC ( B`).
        Some('(' | ')' | '*' | '+' | '-' | '.' | '/' | '#' | '%' | ' ') => {
            chars.next();
        }
        // Any other two-character escape (ESC c resets the terminal, ESC 7/8 …).
        Some(_) | None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let s = "2026-05-04 10:04:31,002 1 INFO ? odoo: Odoo version 18.0 — été";
        assert!(matches!(terminal_safe(s), Cow::Borrowed(_)));
        assert_eq!(terminal_safe(s), s);
    }

    #[test]
    fn colours_and_cursor_moves_are_removed() {
        assert_eq!(
            terminal_safe("\u{1b}[1;31mERROR\u{1b}[0m boom\u{1b}[2J\u{1b}[H"),
            "ERROR boom"
        );
    }

    #[test]
    fn window_titles_and_hyperlinks_are_removed() {
        assert_eq!(
            terminal_safe("a\u{1b}]0;pwned\u{7}b\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\c"),
            "ablinkc"
        );
        // An unterminated OSC swallows the rest of the line, never the screen.
        assert_eq!(terminal_safe("ok\u{1b}]2;title"), "ok");
    }

    #[test]
    fn other_escapes_are_removed() {
        assert_eq!(terminal_safe("x\u{1b}cy\u{1b}(Bz\u{1b}"), "xyz");
    }

    #[test]
    fn tabs_become_spaces_to_the_next_stop() {
        assert_eq!(terminal_safe("a\tb"), "a   b");
        assert_eq!(terminal_safe("\tx"), "    x");
        assert_eq!(terminal_safe("abcd\te"), "abcd    e");
    }

    #[test]
    fn line_breaks_become_one_space() {
        assert_eq!(terminal_safe("a\r\nb\nc\rd"), "a b c d");
    }

    #[test]
    fn other_controls_are_shown_escaped() {
        assert_eq!(terminal_safe("bell\u{7}"), "bell\\x07");
        assert_eq!(terminal_safe("nul\u{0}del\u{7f}"), "nul\\x00del\\x7f");
        // C1 CSI (one character) is neutralised too.
        assert_eq!(terminal_safe("a\u{9b}2Jb"), "a\\x9b2Jb");
        assert_eq!(terminal_safe("abc\u{202e}fed"), "abc\\u{202e}fed");
    }

    #[test]
    fn the_result_never_holds_a_control_character() {
        let nasty: String = (0u32..0x300)
            .filter_map(char::from_u32)
            .chain("\u{202e}\u{2066}".chars())
            .collect();
        let safe = terminal_safe(&nasty);
        assert!(
            !safe
                .chars()
                .any(|c| is_control(c) || is_direction_override(c)),
            "{safe:?}"
        );
    }
}

//! Text a plugin controls (its error messages, its log lines, what it printed before a
//! trap) made safe to show and keep: bounded in length, one line, without control
//! characters or terminal escape sequences (so it cannot fake or erase output), and without
//! the connection's secret values where they appear verbatim.

/// Most bytes of plugin text kept in one error field or log line.
pub const MAX_PLUGIN_TEXT: usize = 2 * 1024;
/// Secrets shorter than this are not searched for (too likely to match ordinary text).
const MIN_SECRET_LEN: usize = 6;
/// What stands in for a secret value.
pub const REDACTED: &str = "<redacted>";

/// `text` as one bounded line: escape sequences removed, line breaks and tabs as spaces,
/// other control and bidirectional-override characters removed, at most `MAX_PLUGIN_TEXT`
/// bytes (cut at a character boundary, saying how much was cut).
pub fn clean(text: &str) -> String {
    clean_to(text, MAX_PLUGIN_TEXT)
}

/// As `clean`, with another bound.
pub fn clean_to(text: &str, max_bytes: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_bytes + 32));
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if out.len() >= max_bytes {
            out.push_str(&format!("… ({} more bytes cut)", text.len() - at));
            break;
        }
        match c {
            '\u{1b}' | '\u{9b}' => skip_escape(c, &mut chars),
            '\n' | '\r' | '\t' => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c if c.is_control() || is_invisible_override(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Drops the rest of an escape sequence begun by `first` (ESC or a C1 CSI): CSI (`ESC [ …
/// final`), OSC (`ESC ] … BEL|ST`), and two-character escapes.
fn skip_escape(first: char, chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) {
    let kind = if first == '\u{9b}' { Some('[') } else { chars.next().map(|(_, c)| c) };
    match kind {
        Some('[') => {
            for (_, c) in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => {
            while let Some((_, c)) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' {
                    chars.next();
                    break;
                }
            }
        }
        _ => {}
    }
}

/// Characters that reorder or hide text on screen (bidirectional overrides and isolates,
/// zero-width joiners used to disguise).
fn is_invisible_override(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// `text` with every verbatim occurrence of a secret value replaced by `REDACTED`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if secret.len() >= MIN_SECRET_LEN && out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_line_breaks_cannot_fake_output() {
        let text = "failed\n\u{1b}[2K\u{1b}[1A\u{1b}[32m6 passed, 0 failed\u{1b}[0m\r\u{1b}]0;title\u{7}\u{202e}txt.exe";
        assert_eq!(clean(text), "failed 6 passed, 0 failed txt.exe");
        assert!(!clean(text).contains('\u{1b}'));
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary_saying_how_much() {
        let text = "é".repeat(10_000);
        let cleaned = clean(&text);
        assert!(cleaned.len() < MAX_PLUGIN_TEXT + 64, "{}", cleaned.len());
        assert!(cleaned.ends_with(&format!("({} more bytes cut)", 20_000 - MAX_PLUGIN_TEXT)), "{cleaned}");
    }

    #[test]
    fn secrets_are_replaced_where_they_appear_verbatim() {
        let secrets = vec!["S3cr3tValue".to_string(), "abc".to_string()];
        assert_eq!(
            redact("calling https://x/?app_secret=S3cr3tValue&a=abc", &secrets),
            "calling https://x/?app_secret=<redacted>&a=abc"
        );
    }
}

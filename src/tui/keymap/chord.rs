//! One key with its modifiers, as written in key files and help text.
//!
//! Grammar: zero or more modifiers (`ctrl-`, `alt-`, `shift-`, `super-`, `hyper-`,
//! `meta-`, case-insensitive) followed by either a single character (`j`, `J`, `?`, `-`)
//! or a key name (`space`, `enter`, `esc`, `tab`, `backspace`, `delete`, `insert`, `up`,
//! `down`, `left`, `right`, `pageup`, `pagedown`, `home`, `end`, `f1`…`f24`).
//!
//! Terminals disagree about shift: `J` may arrive as `'J'` or as `'J'`+SHIFT (or even
//! `'j'`+SHIFT), Shift-Tab as `BackTab` with or without SHIFT. Chords are therefore kept in
//! a normal form, both when parsed and when built from a [`KeyEvent`], so that matching is
//! plain equality: a character carries its own shift (no SHIFT flag, letter upper-cased),
//! and Shift-Tab is always `BackTab` without SHIFT.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;
use std::str::FromStr;

/// A key and its modifiers, in normal form (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    code: KeyCode,
    modifiers: KeyModifiers,
}

/// Why a key string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyParseError {
    #[error("empty key")]
    Empty,
    #[error("unknown modifier `{0}` (use ctrl, alt, shift, super, hyper or meta)")]
    UnknownModifier(String),
    #[error("unknown key name `{0}` (use one character, or space, enter, esc, tab, up, pageup, home, f1, …)")]
    UnknownKey(String),
    #[error("control characters cannot be bound; use a key name such as tab or enter")]
    ControlChar,
}

/// The modifiers the grammar knows, in printing order.
const MODIFIERS: [(&str, KeyModifiers); 6] = [
    ("ctrl", KeyModifiers::CONTROL),
    ("alt", KeyModifiers::ALT),
    ("shift", KeyModifiers::SHIFT),
    ("super", KeyModifiers::SUPER),
    ("hyper", KeyModifiers::HYPER),
    ("meta", KeyModifiers::META),
];

/// Named keys; the first spelling of a code is the canonical one, later ones are aliases.
const NAMES: [(&str, KeyCode); 22] = [
    ("space", KeyCode::Char(' ')),
    ("enter", KeyCode::Enter),
    ("return", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("escape", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("del", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("ins", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pageup", KeyCode::PageUp),
    ("pgup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("pgdn", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
];

impl KeyChord {
    /// Builds a chord, bringing it into normal form.
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> KeyChord {
        let mut code = code;
        let mut modifiers = modifiers;
        match code {
            KeyCode::Char(c) => {
                if modifiers.contains(KeyModifiers::SHIFT) {
                    code = KeyCode::Char(upper(c));
                }
                modifiers.remove(KeyModifiers::SHIFT);
            }
            KeyCode::BackTab => modifiers.remove(KeyModifiers::SHIFT),
            KeyCode::Tab if modifiers.contains(KeyModifiers::SHIFT) => {
                code = KeyCode::BackTab;
                modifiers.remove(KeyModifiers::SHIFT);
            }
            _ => {}
        }
        KeyChord { code, modifiers }
    }

    /// A chord without modifiers.
    pub fn plain(code: KeyCode) -> KeyChord {
        KeyChord::new(code, KeyModifiers::NONE)
    }

    pub fn code(&self) -> KeyCode {
        self.code
    }

    pub fn modifiers(&self) -> KeyModifiers {
        self.modifiers
    }

    /// Whether a key event is this chord (the event's kind is not looked at).
    pub fn matches(&self, event: &KeyEvent) -> bool {
        KeyChord::from(*event) == *self
    }
}

/// Upper-cases a letter that has a single-character upper case; anything else is kept.
fn upper(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

impl From<KeyEvent> for KeyChord {
    fn from(event: KeyEvent) -> KeyChord {
        KeyChord::new(event.code, event.modifiers)
    }
}

impl FromStr for KeyChord {
    type Err = KeyParseError;

    fn from_str(s: &str) -> Result<KeyChord, KeyParseError> {
        if s.is_empty() {
            return Err(KeyParseError::Empty);
        }
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = s;
        // A lone character is always the key, so "-" and "ctrl--" work.
        while rest.chars().nth(1).is_some() {
            let Some((head, tail)) = rest.split_once('-') else {
                break;
            };
            if tail.is_empty() {
                break;
            }
            match MODIFIERS.iter().find(|(name, _)| name.eq_ignore_ascii_case(head)) {
                Some((_, m)) => modifiers |= *m,
                None => return Err(KeyParseError::UnknownModifier(head.to_string())),
            }
            rest = tail;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (None, _) => return Err(KeyParseError::Empty),
            (Some(c), None) if c.is_control() => return Err(KeyParseError::ControlChar),
            (Some(c), None) => KeyCode::Char(c),
            _ => key_code(rest).ok_or_else(|| KeyParseError::UnknownKey(rest.to_string()))?,
        };
        Ok(KeyChord::new(code, modifiers))
    }
}

fn key_code(name: &str) -> Option<KeyCode> {
    let lower = name.to_ascii_lowercase();
    if let Some((_, code)) = NAMES.iter().find(|(n, _)| *n == lower) {
        return Some(*code);
    }
    let n: u8 = lower.strip_prefix('f')?.parse().ok()?;
    // Reject "f01" so every key has exactly one spelling per name.
    (1..=24)
        .contains(&n)
        .then_some(KeyCode::F(n))
        .filter(|_| lower == format!("f{n}"))
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        for (name, m) in MODIFIERS {
            if self.modifiers.contains(m) {
                text.push_str(name);
                text.push('-');
            }
        }
        match self.code {
            KeyCode::BackTab => text.push_str("shift-tab"),
            KeyCode::F(n) => text.push_str(&format!("f{n}")),
            KeyCode::Char(' ') => text.push_str("space"),
            KeyCode::Char(c) => text.push(c),
            code => match NAMES.iter().find(|(_, c)| *c == code) {
                Some((name, _)) => text.push_str(name),
                // Not reachable from the grammar; shown for unbound keys coming from the terminal.
                None => text.push_str(&format!("{code:?}")),
            },
        }
        // `pad` so that callers can align key columns with `{:<10}`.
        f.pad(&text)
    }
}

impl serde::Serialize for KeyChord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for KeyChord {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<KeyChord, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ratatui::crossterm::event::KeyEventKind;

    fn chord(s: &str) -> KeyChord {
        s.parse().unwrap()
    }

    #[test]
    fn parses_the_documented_spellings() {
        let cases = [
            ("j", KeyCode::Char('j'), KeyModifiers::NONE),
            ("J", KeyCode::Char('J'), KeyModifiers::NONE),
            ("?", KeyCode::Char('?'), KeyModifiers::NONE),
            ("/", KeyCode::Char('/'), KeyModifiers::NONE),
            (":", KeyCode::Char(':'), KeyModifiers::NONE),
            ("-", KeyCode::Char('-'), KeyModifiers::NONE),
            ("space", KeyCode::Char(' '), KeyModifiers::NONE),
            ("enter", KeyCode::Enter, KeyModifiers::NONE),
            ("esc", KeyCode::Esc, KeyModifiers::NONE),
            ("tab", KeyCode::Tab, KeyModifiers::NONE),
            ("shift-tab", KeyCode::BackTab, KeyModifiers::NONE),
            ("up", KeyCode::Up, KeyModifiers::NONE),
            ("pageup", KeyCode::PageUp, KeyModifiers::NONE),
            ("pagedown", KeyCode::PageDown, KeyModifiers::NONE),
            ("home", KeyCode::Home, KeyModifiers::NONE),
            ("end", KeyCode::End, KeyModifiers::NONE),
            ("ctrl-c", KeyCode::Char('c'), KeyModifiers::CONTROL),
            ("ctrl-d", KeyCode::Char('d'), KeyModifiers::CONTROL),
            ("alt-x", KeyCode::Char('x'), KeyModifiers::ALT),
            ("ctrl--", KeyCode::Char('-'), KeyModifiers::CONTROL),
            ("f1", KeyCode::F(1), KeyModifiers::NONE),
            ("F12", KeyCode::F(12), KeyModifiers::NONE),
            ("shift-j", KeyCode::Char('J'), KeyModifiers::NONE),
            (
                "Ctrl-Alt-Delete",
                KeyCode::Delete,
                KeyModifiers::CONTROL | KeyModifiers::ALT,
            ),
            ("shift-up", KeyCode::Up, KeyModifiers::SHIFT),
        ];
        for (text, code, modifiers) in cases {
            let parsed = chord(text);
            assert_eq!((parsed.code(), parsed.modifiers()), (code, modifiers), "{text}");
        }
    }

    #[test]
    fn prints_canonically() {
        for (text, canonical) in [
            ("Ctrl-C", "ctrl-C"),
            ("ctrl-shift-c", "ctrl-C"),
            ("shift-j", "J"),
            ("backtab", "shift-tab"),
            ("shift-tab", "shift-tab"),
            ("return", "enter"),
            ("ESC", "esc"),
            ("pgdn", "pagedown"),
            (" ", "space"),
            ("alt-shift-ctrl-x", "ctrl-alt-X"),
            ("meta-super-hyper-f3", "super-hyper-meta-f3"),
        ] {
            assert_eq!(chord(text).to_string(), canonical, "{text}");
        }
    }

    #[test]
    fn rejects_bad_keys_with_a_reason() {
        assert_eq!("".parse::<KeyChord>(), Err(KeyParseError::Empty));
        assert_eq!(
            "ctlr-c".parse::<KeyChord>(),
            Err(KeyParseError::UnknownModifier("ctlr".into()))
        );
        assert_eq!(
            "ctrl-".parse::<KeyChord>(),
            Err(KeyParseError::UnknownKey("ctrl-".into()))
        );
        assert_eq!(
            "pageupp".parse::<KeyChord>(),
            Err(KeyParseError::UnknownKey("pageupp".into()))
        );
        assert_eq!("f0".parse::<KeyChord>(), Err(KeyParseError::UnknownKey("f0".into())));
        assert_eq!("f25".parse::<KeyChord>(), Err(KeyParseError::UnknownKey("f25".into())));
        assert_eq!("f01".parse::<KeyChord>(), Err(KeyParseError::UnknownKey("f01".into())));
        assert_eq!("\t".parse::<KeyChord>(), Err(KeyParseError::ControlChar));
        let message = "ctrl-sapce".parse::<KeyChord>().unwrap_err().to_string();
        assert!(message.contains("`sapce`"), "{message}");
    }

    #[test]
    fn events_match_however_the_terminal_reports_shift() {
        let shifted_j = [
            KeyEvent::new(KeyCode::Char('J'), KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Char('J'), KeyModifiers::SHIFT),
            KeyEvent::new(KeyCode::Char('j'), KeyModifiers::SHIFT),
        ];
        for event in shifted_j {
            assert!(chord("J").matches(&event), "{event:?}");
            assert!(!chord("j").matches(&event), "{event:?}");
        }
        for event in [
            KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
            KeyEvent::new(KeyCode::BackTab, KeyModifiers::NONE),
            KeyEvent::new(KeyCode::Tab, KeyModifiers::SHIFT),
        ] {
            assert!(chord("shift-tab").matches(&event), "{event:?}");
            assert!(!chord("tab").matches(&event), "{event:?}");
        }
        assert!(chord("?").matches(&KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT)));
        assert!(chord("ctrl-c").matches(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert!(!chord("ctrl-c").matches(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE)));
        let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert!(
            chord("q").matches(&release),
            "kind is the keymap's business, not the chord's"
        );
    }

    #[test]
    fn display_honours_width() {
        assert_eq!(format!("{:<8}|", chord("ctrl-c")), "ctrl-c  |");
    }

    #[test]
    fn serde_uses_the_canonical_text() {
        let c = chord("ctrl-shift-tab");
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"ctrl-shift-tab\"");
        let back: KeyChord = serde_json::from_str("\"ctrl-shift-tab\"").unwrap();
        assert_eq!(back, c);
        assert!(serde_json::from_str::<KeyChord>("\"ctrl-nope\"").is_err());
    }

    fn any_code() -> impl Strategy<Value = KeyCode> {
        prop_oneof![
            any::<char>()
                .prop_filter("printable", |c| !c.is_control())
                .prop_map(KeyCode::Char),
            proptest::sample::select(NAMES.iter().map(|(_, c)| *c).collect::<Vec<_>>()),
            Just(KeyCode::BackTab),
            (1u8..=24).prop_map(KeyCode::F),
        ]
    }

    fn any_modifiers() -> impl Strategy<Value = KeyModifiers> {
        proptest::bits::u8::masked(0b11_1111).prop_map(|bits| {
            MODIFIERS
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .fold(KeyModifiers::NONE, |acc, (_, (_, m))| acc | *m)
        })
    }

    proptest! {
        #[test]
        fn print_then_parse_is_identity(code in any_code(), modifiers in any_modifiers()) {
            let chord = KeyChord::new(code, modifiers);
            let text = chord.to_string();
            prop_assert_eq!(text.parse::<KeyChord>(), Ok(chord), "text {}", text);
        }

        #[test]
        fn canonical_text_is_a_fixed_point(code in any_code(), modifiers in any_modifiers()) {
            let text = KeyChord::new(code, modifiers).to_string();
            let again = text.parse::<KeyChord>().map(|c| c.to_string());
            prop_assert_eq!(again, Ok(text));
        }

        #[test]
        fn normal_form_is_idempotent(code in any_code(), modifiers in any_modifiers()) {
            let once = KeyChord::new(code, modifiers);
            prop_assert_eq!(KeyChord::new(once.code(), once.modifiers()), once);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,12}") {
            let _ = s.parse::<KeyChord>();
        }
    }
}

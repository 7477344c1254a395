//! Theme files: parsing, the compiled-in presets and overriding one spec with another.

use super::{Role, ThemeError};
use ratatui::style::{Color, Modifier, Style};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::str::FromStr;

const DARK: &str = include_str!("../../../themes/dark.toml");
const LIGHT: &str = include_str!("../../../themes/light.toml");
const HIGH_CONTRAST: &str = include_str!("../../../themes/high-contrast.toml");
const MONO: &str = include_str!("../../../themes/mono.toml");

/// A theme file as written: only what it sets.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ThemeSpec {
    pub name: Option<String>,
    pub base: Option<String>,
    #[serde(default)]
    styles: BTreeMap<Role, StyleSpec>,
}

/// One role as written. Unset fields are inherited from the base theme's same role when
/// overriding; `modifiers`, when set, replaces the base's list.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    #[serde(default, deserialize_with = "color")]
    fg: Option<Color>,
    #[serde(default, deserialize_with = "color")]
    bg: Option<Color>,
    modifiers: Option<Vec<ModifierName>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ModifierName {
    Bold,
    Dim,
    Italic,
    Underlined,
    SlowBlink,
    RapidBlink,
    Reversed,
    Hidden,
    CrossedOut,
}

impl ModifierName {
    fn modifier(self) -> Modifier {
        match self {
            ModifierName::Bold => Modifier::BOLD,
            ModifierName::Dim => Modifier::DIM,
            ModifierName::Italic => Modifier::ITALIC,
            ModifierName::Underlined => Modifier::UNDERLINED,
            ModifierName::SlowBlink => Modifier::SLOW_BLINK,
            ModifierName::RapidBlink => Modifier::RAPID_BLINK,
            ModifierName::Reversed => Modifier::REVERSED,
            ModifierName::Hidden => Modifier::HIDDEN,
            ModifierName::CrossedOut => Modifier::CROSSED_OUT,
        }
    }
}

/// Colours go through ratatui's own parser (names, `#rrggbb`, indices) so theme files accept
/// exactly what ratatui documents; this wrapper only adds bare integers and a clearer error.
fn color<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Color>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Index(u8),
    }
    let raw = Raw::deserialize(deserializer).map_err(|_| {
        serde::de::Error::custom("a colour is a string such as \"red\" or \"#rrggbb\", or an index 0-255")
    })?;
    match raw {
        Raw::Index(i) => Ok(Some(Color::Indexed(i))),
        Raw::Text(text) => Color::from_str(&text).map(Some).map_err(|_| {
            serde::de::Error::custom(format!(
                "unknown colour \"{text}\"; use \"reset\", a name such as \"red\", \"light-blue\" or \"dark-gray\", \
                 \"#rrggbb\", or an index 0-255"
            ))
        }),
    }
}

impl StyleSpec {
    fn style(&self) -> Style {
        let modifiers = self
            .modifiers
            .iter()
            .flatten()
            .fold(Modifier::empty(), |acc, m| acc | m.modifier());
        let mut style = Style::default().add_modifier(modifiers);
        style.fg = self.fg;
        style.bg = self.bg;
        style
    }

    fn overridden_by(&self, over: &StyleSpec) -> StyleSpec {
        StyleSpec {
            fg: over.fg.or(self.fg),
            bg: over.bg.or(self.bg),
            modifiers: over.modifiers.clone().or_else(|| self.modifiers.clone()),
        }
    }
}

impl ThemeSpec {
    /// The style set for `role` itself, if any.
    pub fn style(&self, role: Role) -> Option<Style> {
        self.styles.get(&role).map(StyleSpec::style)
    }

    /// This spec with `over`'s roles applied field by field; the result has no base.
    pub fn overridden_by(mut self, over: &ThemeSpec) -> ThemeSpec {
        for (role, spec) in &over.styles {
            let merged = match self.styles.get(role) {
                Some(base) => base.overridden_by(spec),
                None => spec.clone(),
            };
            self.styles.insert(*role, merged);
        }
        self.name = over.name.clone();
        self.base = None;
        self
    }
}

pub(super) fn parse(text: &str, origin: &str) -> Result<ThemeSpec, ThemeError> {
    toml::from_str(text).map_err(|e| ThemeError::Invalid {
        origin: origin.to_string(),
        message: e.to_string(),
    })
}

/// The source text of a preset.
pub(super) fn preset_text(name: &str) -> Option<&'static str> {
    match name {
        "dark" => Some(DARK),
        "light" => Some(LIGHT),
        "high-contrast" => Some(HIGH_CONTRAST),
        "mono" => Some(MONO),
        _ => None,
    }
}

/// A preset's spec. Presets stand alone (a test checks they have no `base`), so one level of
/// overriding is all a user file can build.
pub(super) fn preset_spec(name: &str) -> Result<ThemeSpec, ThemeError> {
    let text = preset_text(name).ok_or_else(|| ThemeError::UnknownPreset(name.to_string()))?;
    parse(text, &format!("preset {name}"))
}

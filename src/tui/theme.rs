//! Colours and text attributes, by meaning.
//!
//! The rest of the UI never names a colour: it asks `theme.style(Role::Missing)`. That keeps
//! every screen consistent, lets operators re-theme with a TOML file, and makes the
//! monochrome theme possible. Meaning is never carried by colour alone: rows also show a
//! text marker (class name, `+`/`-`/`~`), so mono and colour-blind operators lose nothing.
//!
//! Four presets are compiled in from `themes/`: `dark` (the default), `light`,
//! `high-contrast` and `mono`. A theme file may name a preset as its `base` and override only
//! some roles; within a file, a role that is not set takes the style of its
//! [`parent`](Role::parent), and so on up to `base`.
//!
//! ```toml
//! name = "night-shift"
//! base = "dark"
//!
//! [styles.danger]
//! fg = "#ff5f5f"                 # a name ("light-red"), "#rrggbb", or an index 0-255
//! modifiers = ["bold", "reversed"]
//!
//! [styles.selection]
//! bg = "236"
//! ```
//!
//! `NO_COLOR` (see no-color.org) selects `mono` through [`Theme::from_env_or`]. This has to
//! happen here rather than in the terminal backend: crossterm honours `NO_COLOR` by turning
//! each colour change into an SGR reset, which also drops bold and reverse video, so a
//! colour theme under `NO_COLOR` would lose its selection highlight. Mono uses
//! [`Color::Reset`](ratatui::style::Color::Reset) only, which crossterm leaves alone.

mod file;
#[cfg(test)]
mod tests;

use ratatui::style::Style;
use serde::{Deserialize, Serialize};
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

enum_with_all! {
    /// What a piece of text means on screen. The variant docs say where each is used and the
    /// role it falls back to when a theme does not set it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Role {
        /// Ordinary text and the background of every pane. The root of all fallbacks.
        Base,
        /// Secondary text: timestamps, counts, placeholders. Falls back to `base`.
        Muted,
        /// Pane and popup titles. Falls back to `accent`.
        Title,
        /// Borders of unfocused panes. Falls back to `muted`.
        Border,
        /// The border of the focused pane or popup. Falls back to `accent`.
        FocusBorder,
        /// The row under the cursor in a table or list. Falls back to `base`.
        Selection,
        /// Table column headers. Falls back to `title`.
        Header,
        /// The `[RO]` badge shown in read-only mode. Falls back to `warn`.
        ReadOnly,
        /// Class `agreed`: active everywhere relevant with the same payload. Falls back to `ok`.
        Agreed,
        /// Class `missing`, and an `unknown` cell: active on some, never seen on others.
        /// Falls back to `warn`.
        Missing,
        /// Class `archived_somewhere`, and an `archived` cell. Falls back to `muted`.
        Archived,
        /// Class `payload_mismatch`, and a `differs` cell. Falls back to `changed`.
        Differs,
        /// A `not_hosted` cell: the participant hosts no stakeholder. Falls back to `muted`.
        NotHosted,
        /// Class `local_only`: relevant to one participant only. Falls back to `agreed`.
        LocalOnly,
        /// Diff lines only on the right (`+`), and contracts a plan imports. Falls back to `ok`.
        Added,
        /// Diff lines only on the left (`-`), and contracts a plan purges. Falls back to `danger`.
        Removed,
        /// Diff lines on both sides with different values (`~`). Falls back to `warn`.
        Changed,
        /// Destructive actions, the confirmation popup, failed steps. Falls back to `base`.
        Danger,
        /// Warnings, rows awaiting a decision, retries. Falls back to `base`.
        Warn,
        /// Success: reachable participants, finished steps. Falls back to `base`.
        Ok,
        /// The filled part of a progress gauge while running. Falls back to `accent`.
        Gauge,
        /// A progress gauge whose work is done. Falls back to `ok`.
        GaugeDone,
        /// The transient status-line message. Falls back to `accent`.
        Flash,
        /// Key names in hints and help (`?`, `enter`). Falls back to `accent`.
        KeyHint,
        /// Emphasis that means nothing more than "look here". Falls back to `base`.
        Accent,
        /// The text cursor in prompts. Falls back to `selection`.
        Cursor,
    }
}

impl Role {
    /// The name used in theme files (same as the serde name).
    pub const fn name(self) -> &'static str {
        match self {
            Role::Base => "base",
            Role::Muted => "muted",
            Role::Title => "title",
            Role::Border => "border",
            Role::FocusBorder => "focus_border",
            Role::Selection => "selection",
            Role::Header => "header",
            Role::ReadOnly => "read_only",
            Role::Agreed => "agreed",
            Role::Missing => "missing",
            Role::Archived => "archived",
            Role::Differs => "differs",
            Role::NotHosted => "not_hosted",
            Role::LocalOnly => "local_only",
            Role::Added => "added",
            Role::Removed => "removed",
            Role::Changed => "changed",
            Role::Danger => "danger",
            Role::Warn => "warn",
            Role::Ok => "ok",
            Role::Gauge => "gauge",
            Role::GaugeDone => "gauge_done",
            Role::Flash => "flash",
            Role::KeyHint => "key_hint",
            Role::Accent => "accent",
            Role::Cursor => "cursor",
        }
    }

    /// The role whose style this one takes when a theme does not set it; `None` for `base`.
    pub const fn parent(self) -> Option<Role> {
        Some(match self {
            Role::Base => return None,
            Role::Muted | Role::Selection | Role::Danger | Role::Warn | Role::Ok | Role::Accent => Role::Base,
            Role::Border | Role::Archived | Role::NotHosted => Role::Muted,
            Role::Title | Role::FocusBorder | Role::Gauge | Role::Flash | Role::KeyHint => Role::Accent,
            Role::Header => Role::Title,
            Role::ReadOnly | Role::Missing | Role::Changed => Role::Warn,
            Role::Agreed | Role::Added | Role::GaugeDone => Role::Ok,
            Role::Differs => Role::Changed,
            Role::LocalOnly => Role::Agreed,
            Role::Removed => Role::Danger,
            Role::Cursor => Role::Selection,
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("unknown theme `{0}`; built-in themes are {presets}", presets = Theme::PRESETS.join(", "))]
    UnknownPreset(String),
    #[error("cannot read theme file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("theme {origin} is not valid: {message}")]
    Invalid { origin: String, message: String },
    #[error("theme {origin}: base = \"{base}\" is not a built-in theme ({})", Theme::PRESETS.join(", "))]
    UnknownBase { origin: String, base: String },
}

/// A complete mapping from [`Role`] to [`Style`], fallbacks already applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    name: String,
    styles: [Style; Role::ALL.len()],
}

impl Theme {
    /// The built-in themes, default first.
    pub const PRESETS: [&'static str; 4] = ["dark", "light", "high-contrast", "mono"];

    /// A built-in theme by name.
    pub fn preset(name: &str) -> Result<Theme, ThemeError> {
        let spec = file::preset_spec(name)?;
        Ok(Theme::from_spec(name.to_string(), &spec))
    }

    /// A theme file: its own roles over its `base` preset (if any), then fallbacks.
    pub fn load(path: &Path) -> Result<Theme, ThemeError> {
        let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        Theme::from_toml(&text, &path.display().to_string(), stem.as_deref().unwrap_or("custom"))
    }

    /// Parses theme file text; `origin` names it in errors and `default_name` is used when
    /// the file has no `name`.
    pub fn from_toml(text: &str, origin: &str, default_name: &str) -> Result<Theme, ThemeError> {
        let user = file::parse(text, origin)?;
        let name = user.name.clone().unwrap_or_else(|| default_name.to_string());
        let spec = match &user.base {
            Some(base) => file::preset_spec(base)
                .map_err(|_| ThemeError::UnknownBase {
                    origin: origin.to_string(),
                    base: base.clone(),
                })?
                .overridden_by(&user),
            None => user,
        };
        Ok(Theme::from_spec(name, &spec))
    }

    /// The default theme for this session: `mono` when `NO_COLOR` is set to anything
    /// non-empty, otherwise the preset `name`. Use it when the operator did not choose a
    /// theme; an explicit `--theme` should go to [`preset`](Theme::preset) or
    /// [`load`](Theme::load) instead, since no-color.org lets explicit choices win.
    pub fn from_env_or(name: &str) -> Result<Theme, ThemeError> {
        Theme::choose(name, std::env::var_os("NO_COLOR").as_deref())
    }

    /// [`from_env_or`](Theme::from_env_or) with the value of `NO_COLOR` passed in. `name`
    /// is checked even when `NO_COLOR` wins, so a typo never goes unnoticed.
    pub fn choose(name: &str, no_color: Option<&OsStr>) -> Result<Theme, ThemeError> {
        let requested = Theme::preset(name)?;
        match no_color {
            Some(value) if !value.is_empty() => Theme::preset("mono"),
            _ => Ok(requested),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The style for a role. Cheap: a copy out of an array.
    pub fn style(&self, role: Role) -> Style {
        self.styles[role as usize]
    }

    fn from_spec(name: String, spec: &file::ThemeSpec) -> Theme {
        let styles = Role::ALL.map(|role| resolve(spec, role));
        Theme { name, styles }
    }
}

/// The style a role ends up with: its own, else its parent's, else the default.
fn resolve(spec: &file::ThemeSpec, role: Role) -> Style {
    let mut current = Some(role);
    while let Some(r) = current {
        if let Some(style) = spec.style(r) {
            return style;
        }
        current = r.parent();
    }
    Style::default()
}

//! Key files: per-layer overrides of the defaults.
//!
//! ```toml
//! [keys.table]
//! "ctrl-n" = "down"   # add or rebind
//! "x" = "none"        # unbind (lower layers may then handle the key)
//! ```
//!
//! Anything that cannot be applied is an error naming the file, line, layer and key, and
//! nothing from a bad file is applied: a half-applied keymap during an incident is worse
//! than refusing to start.

use super::{KeyChord, KeyParseError, Keymap, Layer};
use crate::tui::action::Action;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The action name that removes a binding.
pub const UNBIND: &str = "none";

#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    #[error("cannot read key file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("key file {origin} is not valid TOML: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin}:{line}: unknown layer [keys.{layer}]; layers are {}", layer_names())]
    UnknownLayer { origin: String, line: usize, layer: String },
    #[error("{origin}:{line}: [keys.{layer}] \"{key}\" is not a key: {reason}")]
    BadKey {
        origin: String,
        line: usize,
        layer: Layer,
        key: String,
        reason: KeyParseError,
    },
    #[error(
        "{origin}:{line}: [keys.{layer}] \"{key}\" = \"{action}\": unknown action; use \"{UNBIND}\" to unbind or one of {}",
        action_names()
    )]
    UnknownAction {
        origin: String,
        line: usize,
        layer: Layer,
        key: String,
        action: String,
    },
    #[error("{origin}:{line}: [keys.{layer}] \"{key}\" is the same key as \"{other}\" (both are {chord})")]
    DuplicateKey {
        origin: String,
        line: usize,
        layer: Layer,
        key: String,
        other: String,
        chord: KeyChord,
    },
}

fn layer_names() -> String {
    Layer::ALL.map(Layer::name).join(", ")
}

fn action_names() -> String {
    Action::ALL.map(Action::name).join(", ")
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<String>>>,
}

/// One validated line of a key file.
struct Change {
    layer: Layer,
    chord: KeyChord,
    action: Option<Action>,
}

impl Keymap {
    /// Reads a key file and applies it over the defaults.
    pub fn load(path: &Path) -> Result<Keymap, KeymapError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeymapError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Keymap::defaults().with_overrides(&text, &path.display().to_string())
    }

    /// Applies the key file `text` over this keymap; `origin` names it in errors (a path,
    /// or something like `--keys`). On error nothing is applied.
    pub fn with_overrides(mut self, text: &str, origin: &str) -> Result<Keymap, KeymapError> {
        for change in parse(text, origin)? {
            match change.action {
                Some(action) => self.bind(change.layer, change.chord, action),
                None => self.unbind(change.layer, change.chord),
            }
        }
        Ok(self)
    }
}

fn parse(text: &str, origin: &str) -> Result<Vec<Change>, KeymapError> {
    let file: KeyFile = toml::from_str(text).map_err(|e| KeymapError::Syntax {
        origin: origin.to_string(),
        message: e.to_string(),
    })?;
    let origin = || origin.to_string();
    let line = |span: std::ops::Range<usize>| {
        1 + text.as_bytes()[..span.start.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    };
    // Apply in file order, so keys the user adds show up in help in the order written.
    let mut layers: Vec<_> = file.keys.into_iter().collect();
    layers.sort_by_key(|(name, _)| name.span().start);
    let mut changes = Vec::new();
    for (layer_name, entries) in layers {
        let layer = Layer::from_name(layer_name.get_ref()).ok_or_else(|| KeymapError::UnknownLayer {
            origin: origin(),
            line: line(layer_name.span()),
            layer: layer_name.get_ref().clone(),
        })?;
        let mut entries: Vec<_> = entries.iter().collect();
        entries.sort_by_key(|(key, _)| key.span().start);
        let mut seen: Vec<(KeyChord, &str)> = Vec::new();
        for (key, action) in entries {
            let key_line = line(key.span());
            let chord: KeyChord = key.get_ref().parse().map_err(|reason| KeymapError::BadKey {
                origin: origin(),
                line: key_line,
                layer,
                key: key.get_ref().clone(),
                reason,
            })?;
            if let Some((_, other)) = seen.iter().find(|(c, _)| *c == chord) {
                return Err(KeymapError::DuplicateKey {
                    origin: origin(),
                    line: key_line,
                    layer,
                    key: key.get_ref().clone(),
                    other: other.to_string(),
                    chord,
                });
            }
            seen.push((chord, key.get_ref()));
            let name = action.get_ref().as_str();
            let action = match name {
                UNBIND => None,
                _ => Some(Action::from_name(name).ok_or_else(|| KeymapError::UnknownAction {
                    origin: origin(),
                    line: line(action.span()),
                    layer,
                    key: key.get_ref().clone(),
                    action: name.to_string(),
                })?),
            };
            changes.push(Change { layer, chord, action });
        }
    }
    Ok(changes)
}

//! Layered, rebindable key bindings, and the help text generated from them.
//!
//! A [`Keymap`] holds bindings per [`Layer`]. The app passes the layers that are active right
//! now (for example `[Diff, Global]` while the diff popup is open) and
//! [`Keymap::resolve`] walks them from the highest priority down; the first binding wins.
//! [`Layer::Confirm`] and [`Layer::Prompt`] *capture* input: no layer below them is
//! consulted, so typing `q` into the filter prompt never quits and `x` never executes.
//! Keys they leave unbound resolve to `None` and belong to the text field.
//!
//! Default placement (see [`defaults`]) follows one rule: an action lives in the lowest
//! layer where it is always meaningful.
//! - Global: pane focus, row and page movement (every pane and popup scrolls), `esc`,
//!   help, `:` commands, the journal pane and quit.
//! - Table (the aligned comparison): filtering, the diff, manual selection, strategies,
//!   per-row decisions, plan preview, refresh and the comparison on the target.
//! - JournalPane, Participants: the main screen's other panes, each active instead of
//!   Table while it has focus (so the status bar shows what works there): they scroll
//!   through Global; the strip refreshes what the participants report.
//! - Plan (the plan preview): strategies again (to compare plans) and `x` execute, which
//!   is bound nowhere else so that the plan is always on screen before the typed
//!   confirmation is asked for.
//! - Execution: `space` pauses or resumes between phases. Finished (the same screen once
//!   the run has ended): what comes next, the comparison on the target synchronizer.
//! - Lead, Node: a screen joined to a session, by role, below the screen's own layer:
//!   the lead proposes, says go, pauses and aborts; a node operator approves and
//!   answers payload requests; both ask for payloads. Observers get neither.
//! - Diff, Help: popups that shadow `tab`, `q` and `esc` and otherwise fall through to
//!   Global for scrolling.
//! - Prompt, Confirm: `enter` submits, `esc` cancels (and `ctrl-c` in a prompt);
//!   Confirm moves between its buttons with `tab`/`shift-tab` and `left`/`right`. The
//!   typed confirmation is a Confirm popup whose text field takes every key the layer
//!   leaves unbound, which is why no printable key is bound there by default: a target
//!   alias may contain any letter.
//!
//! Users override bindings per layer with a TOML file (see [`Keymap::with_overrides`]) and
//! read-only mode removes every destructive binding ([`Keymap::read_only`]).

mod chord;
pub mod defaults;
mod file;
#[cfg(test)]
mod tests;

pub use chord::{KeyChord, KeyParseError};
pub use file::KeymapError;

use crate::tui::action::Action;
use ratatui::crossterm::event::{KeyEvent, KeyEventKind};
use serde::{Deserialize, Serialize};
use std::fmt;

enum_with_all! {
    /// A group of bindings that is active in some state of the UI. Declared in priority order,
    /// highest first, so `Ord` is priority.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Layer {
        /// A confirmation popup with buttons, Cancel focused first: the typed confirmation
        /// before execution (its text field takes the keys this layer leaves unbound) and
        /// "quit while steps are running?". Above Prompt, so it wins should both be open.
        Confirm,
        /// A text field: the `/` filter and the `:` command line.
        Prompt,
        /// The help overlay.
        Help,
        /// The per-participant diff popup.
        Diff,
        /// The plan preview pane.
        Plan,
        /// The execution screen while the run is active.
        Execution,
        /// The execution screen once the run has ended: what comes next.
        Finished,
        /// The aligned comparison table.
        Table,
        /// The session journal pane of the main screen, while it has focus.
        JournalPane,
        /// The participants strip of the main screen, while it has focus.
        Participants,
        /// A screen joined to a multi-operator session as its lead.
        Lead,
        /// A screen joined to a session as a participant's node operator.
        Node,
        /// Always active below everything else.
        Global,
    }
}

impl Layer {
    /// The name used in key files (`[keys.<name>]`).
    pub const fn name(self) -> &'static str {
        match self {
            Layer::Confirm => "confirm",
            Layer::Prompt => "prompt",
            Layer::Help => "help",
            Layer::Diff => "diff",
            Layer::Plan => "plan",
            Layer::Execution => "execution",
            Layer::Finished => "finished",
            Layer::Table => "table",
            Layer::JournalPane => "journal_pane",
            Layer::Participants => "participants",
            Layer::Lead => "lead",
            Layer::Node => "node",
            Layer::Global => "global",
        }
    }

    /// The heading of the layer's section in the help overlay.
    pub const fn title(self) -> &'static str {
        match self {
            Layer::Confirm => "Confirmation popups",
            Layer::Prompt => "Filter and command prompts",
            Layer::Help => "Help",
            Layer::Diff => "Payload diff",
            Layer::Plan => "Plan preview",
            Layer::Execution => "Execution, while running",
            Layer::Finished => "Execution, after the run",
            Layer::Table => "Comparison",
            Layer::JournalPane => "Session journal pane",
            Layer::Participants => "Participants strip",
            Layer::Lead => "Session, as its lead",
            Layer::Node => "Session, as your participant's node operator",
            Layer::Global => "Everywhere",
        }
    }

    /// Where the layer's section comes in the help overlay: the screens in the order an
    /// operator meets them, then the popups and prompts, then what works everywhere.
    pub const fn help_rank(self) -> u8 {
        match self {
            Layer::Lead | Layer::Node => 0,
            Layer::Table => 1,
            Layer::JournalPane => 2,
            Layer::Participants => 3,
            Layer::Diff => 4,
            Layer::Plan => 5,
            Layer::Confirm => 6,
            Layer::Execution => 7,
            Layer::Finished => 8,
            Layer::Prompt => 9,
            Layer::Help => 10,
            Layer::Global => 11,
        }
    }

    pub fn from_name(name: &str) -> Option<Layer> {
        Layer::ALL.into_iter().find(|l| l.name() == name)
    }

    /// Whether this layer hides every layer below it (it owns the keyboard).
    pub const fn captures_input(self) -> bool {
        matches!(self, Layer::Confirm | Layer::Prompt)
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// One line of the help overlay: all keys that trigger `action` in `layer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpEntry {
    pub layer: Layer,
    /// Canonical key texts, in binding order (defaults first, then the user's additions).
    pub keys: Vec<String>,
    pub action: Action,
    pub description: &'static str,
}

/// One status-bar hint: press `key` to `label`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub key: String,
    pub action: Action,
    pub label: &'static str,
}

/// Bindings per layer. Cheap to clone; built once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    // Indexed by `Layer as usize`. A Vec per layer keeps the binding order for help
    // text; layers hold a few dozen keys, so a linear scan is as fast as a map.
    layers: [Vec<(KeyChord, Action)>; Layer::ALL.len()],
    read_only: bool,
}

impl Default for Keymap {
    fn default() -> Keymap {
        Keymap::defaults()
    }
}

impl Keymap {
    /// A keymap with no bindings at all.
    pub fn empty() -> Keymap {
        Keymap {
            layers: Default::default(),
            read_only: false,
        }
    }

    /// The default bindings (see the module docs and [`defaults::BINDINGS`]).
    pub fn defaults() -> Keymap {
        let mut keymap = Keymap::empty();
        for &(layer, key, action) in defaults::BINDINGS {
            // The table is checked by a test; a bad entry is skipped rather than aborting start-up.
            if let Ok(chord) = key.parse() {
                keymap.bind(layer, chord, action);
            }
        }
        keymap
    }

    /// Binds `chord` to `action` in `layer`, replacing what the chord did there. In a
    /// read-only keymap destructive actions are refused (the chord is unbound instead).
    pub fn bind(&mut self, layer: Layer, chord: KeyChord, action: Action) {
        if self.read_only && action.destructive() {
            self.unbind(layer, chord);
            return;
        }
        let bindings = &mut self.layers[layer as usize];
        match bindings.iter_mut().find(|(c, _)| *c == chord) {
            Some(slot) => slot.1 = action,
            None => bindings.push((chord, action)),
        }
    }

    /// Removes `chord` from `layer`; lower layers may then handle it.
    pub fn unbind(&mut self, layer: Layer, chord: KeyChord) {
        self.layers[layer as usize].retain(|(c, _)| *c != chord);
    }

    /// This keymap with every destructive action unbound in every layer, now and for any
    /// later [`bind`](Keymap::bind) or override file.
    pub fn read_only(mut self) -> Keymap {
        self.read_only = true;
        for bindings in &mut self.layers {
            bindings.retain(|(_, action)| !action.destructive());
        }
        self
    }

    /// This keymap for a screen joined to a session in `role`: the single-operator
    /// execution keys (execute, pause, the target comparison) are unbound, since a joined
    /// screen runs nothing but its deck; only the lead keeps the keys that choose a plan;
    /// an observer keeps only what reads. The role's own layer is the one
    /// [`App::layers`](crate::tui::app::App::layers) activates.
    pub fn for_session(mut self, role: crate::collab::event::Role) -> Keymap {
        use crate::collab::event::Role;
        let planning = |a: Action| {
            matches!(
                a,
                Action::ToggleRow
                    | Action::StrategyIntersection
                    | Action::StrategyUnion
                    | Action::StrategyManual
                    | Action::DecidePurge
                    | Action::DecideExclude
            )
        };
        for bindings in &mut self.layers {
            bindings.retain(|(_, a)| {
                !matches!(a, Action::Execute | Action::Pause | Action::CompareTarget)
                    && (role == Role::Lead || !planning(*a))
            });
        }
        if role != Role::Lead {
            self.layers[Layer::Lead as usize].clear();
        }
        if role != Role::NodeOperator {
            self.layers[Layer::Node as usize].clear();
        }
        if role == Role::Observer {
            self = self.read_only();
        }
        self
    }

    /// Whether [`read_only`](Keymap::read_only) was applied (the UI shows `[RO]`).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The bindings of one layer, in binding order.
    pub fn bindings(&self, layer: Layer) -> impl Iterator<Item = (KeyChord, Action)> + '_ {
        self.layers[layer as usize].iter().copied()
    }

    /// What `chord` does in `layer` alone.
    pub fn get(&self, layer: Layer, chord: KeyChord) -> Option<Action> {
        self.layers[layer as usize]
            .iter()
            .find_map(|(c, a)| (*c == chord).then_some(*a))
    }

    /// The action a key press triggers with `active_layers` active (in any order; they are
    /// walked by priority and the walk stops after a layer that captures input). Release
    /// events never trigger anything; repeats do, so holding `j` scrolls.
    pub fn resolve(&self, active_layers: &[Layer], key: KeyEvent) -> Option<Action> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        self.resolve_chord(active_layers, KeyChord::from(key))
    }

    /// [`resolve`](Keymap::resolve) for a chord.
    pub fn resolve_chord(&self, active_layers: &[Layer], chord: KeyChord) -> Option<Action> {
        self.handler(active_layers, chord).map(|(_, action)| action)
    }

    /// The layer that handles `chord` with `active_layers` active, and its action.
    pub fn handler(&self, active_layers: &[Layer], chord: KeyChord) -> Option<(Layer, Action)> {
        walk(active_layers).find_map(|layer| self.get(layer, chord).map(|action| (layer, action)))
    }

    /// The help listing for `active_layers`: per layer (priority order) and action (help
    /// order), the keys that layer handles. A key bound in several active layers is listed
    /// only under the one that wins, so every listed key does what its entry says.
    pub fn help(&self, active_layers: &[Layer]) -> Vec<HelpEntry> {
        let mut entries = Vec::new();
        for layer in walk(active_layers) {
            for action in Action::ALL {
                let keys: Vec<String> = self
                    .bindings(layer)
                    .filter(|&(chord, a)| a == action && self.handler(active_layers, chord) == Some((layer, a)))
                    .map(|(chord, _)| chord.to_string())
                    .collect();
                if !keys.is_empty() {
                    entries.push(HelpEntry {
                        layer,
                        keys,
                        action,
                        description: action.description(),
                    });
                }
            }
        }
        entries
    }

    /// Status-bar hints for the topmost active layer: its most useful actions (see
    /// [`defaults::hint_actions`]) with the first key that reaches each through the active
    /// layers. Unbound actions (read-only mode, user unbinding) are skipped.
    pub fn hints(&self, active_layers: &[Layer]) -> Vec<Hint> {
        let Some(top) = walk(active_layers).next() else {
            return Vec::new();
        };
        self.hints_of(top, active_layers)
    }

    /// Status-bar hints for `layer`'s actions, with the key that reaches each through
    /// `active_layers` (the role layer of a joined screen sits below the screen's).
    pub fn hints_of(&self, layer: Layer, active_layers: &[Layer]) -> Vec<Hint> {
        defaults::hint_actions(layer)
            .iter()
            .filter_map(|&action| {
                Some(Hint {
                    key: self.key_for(active_layers, action)?.to_string(),
                    action,
                    label: action.label(),
                })
            })
            .collect()
    }

    /// The first key that triggers `action` with `active_layers` active (highest layer
    /// first, then binding order), or `None` if nothing reaches it. Text on screen names
    /// keys through this, so it always shows what the keys really do.
    pub fn key_for(&self, active_layers: &[Layer], action: Action) -> Option<KeyChord> {
        walk(active_layers)
            .flat_map(|layer| self.bindings(layer).map(move |(chord, a)| (layer, chord, a)))
            .find(|&(layer, chord, a)| a == action && self.handler(active_layers, chord) == Some((layer, a)))
            .map(|(_, chord, _)| chord)
    }
}

/// The active layers in priority order, each once, up to and including the first one that
/// captures input.
fn walk(active_layers: &[Layer]) -> impl Iterator<Item = Layer> + '_ {
    let mut captured = false;
    Layer::ALL
        .into_iter()
        .filter(|layer| active_layers.contains(layer))
        .take_while(move |layer| {
            let open = !captured;
            captured |= layer.captures_input();
            open
        })
}

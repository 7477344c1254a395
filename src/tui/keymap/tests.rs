use super::*;
use crate::tui::action::Action;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::fmt::Write as _;

fn key(s: &str) -> KeyEvent {
    let chord: KeyChord = s.parse().unwrap();
    KeyEvent::new(chord.code(), chord.modifiers())
}

fn chord(s: &str) -> KeyChord {
    s.parse().unwrap()
}

/// The layer stacks the app is expected to use.
const STACKS: &[&[Layer]] = &[
    &[Layer::Table, Layer::Global],
    &[Layer::JournalPane, Layer::Global],
    &[Layer::Participants, Layer::Global],
    &[Layer::Plan, Layer::Global],
    &[Layer::Execution, Layer::Global],
    &[Layer::Finished, Layer::Global],
    &[Layer::Diff, Layer::Global],
    &[Layer::Help, Layer::Global],
    &[Layer::Prompt],
    &[Layer::Confirm],
    &[Layer::Confirm, Layer::Prompt],
    &[Layer::Global],
];

fn snapshot<T: std::fmt::Display>(name: &str, value: T) {
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, value);
    });
}

#[test]
fn default_table_parses_without_duplicates() {
    for &(layer, text, action) in defaults::BINDINGS {
        let parsed: Result<KeyChord, _> = text.parse();
        assert!(parsed.is_ok(), "{layer} {text}");
        let parsed = parsed.unwrap();
        assert_eq!(parsed.to_string(), text, "default keys are written canonically");
        let same = defaults::BINDINGS
            .iter()
            .filter(|&&(l, t, _)| l == layer && t.parse::<KeyChord>() == Ok(parsed))
            .count();
        assert_eq!(same, 1, "{layer} {text} bound twice");
        assert_eq!(Keymap::defaults().get(layer, parsed), Some(action));
    }
    assert_eq!(Keymap::defaults().bindings(Layer::Global).count(), 24);
}

#[test]
fn every_action_has_a_default_key() {
    let keymap = Keymap::defaults();
    for action in Action::ALL {
        let bound = Layer::ALL
            .into_iter()
            .any(|layer| keymap.bindings(layer).any(|(_, a)| a == action));
        assert!(bound, "{action} has no default key");
    }
}

#[test]
fn the_issue_defaults_resolve() {
    let keymap = Keymap::defaults();
    let table = [Layer::Table, Layer::Global];
    let cases = [
        ("tab", Action::FocusNext),
        ("shift-tab", Action::FocusPrev),
        ("j", Action::Down),
        ("down", Action::Down),
        ("k", Action::Up),
        ("up", Action::Up),
        ("pagedown", Action::PageDown),
        ("ctrl-d", Action::PageDown),
        ("pageup", Action::PageUp),
        ("ctrl-u", Action::PageUp),
        ("g", Action::Top),
        ("home", Action::Top),
        ("G", Action::Bottom),
        ("end", Action::Bottom),
        ("h", Action::ScrollLeft),
        ("left", Action::ScrollLeft),
        ("l", Action::ScrollRight),
        ("right", Action::ScrollRight),
        ("/", Action::Filter),
        ("c", Action::CycleClass),
        ("esc", Action::Clear),
        ("enter", Action::OpenDiff),
        ("space", Action::ToggleRow),
        ("i", Action::StrategyIntersection),
        ("u", Action::StrategyUnion),
        ("m", Action::StrategyManual),
        ("P", Action::DecidePurge),
        ("E", Action::DecideExclude),
        ("p", Action::PlanPreview),
        ("r", Action::Refresh),
        ("?", Action::Help),
        (":", Action::Command),
        ("J", Action::Journal),
        ("q", Action::Quit),
        ("ctrl-c", Action::Quit),
    ];
    for (text, action) in cases {
        assert_eq!(keymap.resolve(&table, key(text)), Some(action), "{text}");
    }
    assert_eq!(
        keymap.resolve(&[Layer::Plan, Layer::Global], key("x")),
        Some(Action::Execute)
    );
    assert_eq!(
        keymap.resolve(&table, key("x")),
        None,
        "execute only from the plan preview"
    );
    let diff = [Layer::Diff, Layer::Global];
    assert_eq!(keymap.resolve(&diff, key("tab")), Some(Action::NextPair));
    assert_eq!(keymap.resolve(&diff, key("esc")), Some(Action::Clear));
    assert_eq!(keymap.resolve(&diff, key("q")), Some(Action::Clear));
    assert_eq!(keymap.resolve(&diff, key("j")), Some(Action::Down));
    let exec = [Layer::Execution, Layer::Global];
    assert_eq!(keymap.resolve(&exec, key("space")), Some(Action::Pause));
}

#[test]
fn higher_layers_win_whatever_order_they_are_passed_in() {
    let keymap = Keymap::defaults();
    let tab = key("tab");
    assert_eq!(
        keymap.resolve(&[Layer::Diff, Layer::Global], tab),
        Some(Action::NextPair)
    );
    assert_eq!(
        keymap.resolve(&[Layer::Global, Layer::Diff], tab),
        Some(Action::NextPair)
    );
    assert_eq!(
        keymap.resolve(&[Layer::Global, Layer::Diff, Layer::Global], tab),
        Some(Action::NextPair)
    );
    assert_eq!(keymap.resolve(&[Layer::Global], tab), Some(Action::FocusNext));
    assert_eq!(keymap.resolve(&[], tab), None);
    // The help popup's `q` closes it; only Global's `q` quits.
    assert_eq!(
        keymap.resolve(&[Layer::Help, Layer::Global], key("q")),
        Some(Action::Clear)
    );
}

#[test]
fn prompt_and_confirm_capture_the_keyboard() {
    let keymap = Keymap::defaults();
    let typing = [Layer::Prompt, Layer::Table, Layer::Global];
    for text in ["q", "x", "j", "J", "space", "?", ":", "P", "tab"] {
        assert_eq!(
            keymap.resolve(&typing, key(text)),
            None,
            "{text} must reach the text field"
        );
    }
    assert_eq!(keymap.resolve(&typing, key("enter")), Some(Action::Submit));
    assert_eq!(keymap.resolve(&typing, key("esc")), Some(Action::Clear));
    assert_eq!(keymap.resolve(&typing, key("ctrl-c")), Some(Action::Clear));

    let confirm = [Layer::Confirm, Layer::Plan, Layer::Global];
    assert_eq!(keymap.resolve(&confirm, key("x")), None);
    assert_eq!(keymap.resolve(&confirm, key("enter")), Some(Action::Submit));
    assert_eq!(keymap.resolve(&confirm, key("tab")), Some(Action::FocusNext));
    assert_eq!(keymap.resolve(&confirm, key("left")), Some(Action::FocusPrev));

    // The typed confirmation's field takes every printable key: an alias may contain any.
    for text in ["q", "y", "n", "x", "j", "J", "space", "?"] {
        assert_eq!(
            keymap.resolve(&confirm, key(text)),
            None,
            "{text} must reach the text field"
        );
    }

    // A confirmation over the command prompt wins, and still captures.
    let over_prompt = [Layer::Prompt, Layer::Confirm, Layer::Global];
    assert_eq!(keymap.resolve(&over_prompt, key("esc")), Some(Action::Clear));
    assert_eq!(keymap.resolve(&over_prompt, key("j")), None);
    assert_eq!(keymap.resolve(&over_prompt, key("ctrl-c")), None);
}

#[test]
fn releases_are_ignored_and_repeats_are_not() {
    let keymap = Keymap::defaults();
    let stack = [Layer::Table, Layer::Global];
    let mut event = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    event.kind = KeyEventKind::Release;
    assert_eq!(keymap.resolve(&stack, event), None);
    event.kind = KeyEventKind::Repeat;
    assert_eq!(keymap.resolve(&stack, event), Some(Action::Down));
}

#[test]
fn terminal_shift_reports_resolve_the_same() {
    let keymap = Keymap::defaults();
    let stack = [Layer::Table, Layer::Global];
    for event in [
        KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT),
        KeyEvent::new(KeyCode::Char('G'), KeyModifiers::NONE),
        KeyEvent::new(KeyCode::Char('g'), KeyModifiers::SHIFT),
    ] {
        assert_eq!(keymap.resolve(&stack, event), Some(Action::Bottom), "{event:?}");
    }
    for event in [
        KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
        KeyEvent::new(KeyCode::BackTab, KeyModifiers::NONE),
    ] {
        assert_eq!(keymap.resolve(&stack, event), Some(Action::FocusPrev), "{event:?}");
    }
    let question = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
    assert_eq!(keymap.resolve(&stack, question), Some(Action::Help));
}

#[test]
fn overrides_add_rebind_and_unbind() {
    let text = r#"
[keys.table]
"ctrl-n" = "down"
"c" = "refresh"
"space" = "none"

[keys.diff]
"q" = "none"
"#;
    let keymap = Keymap::defaults().with_overrides(text, "keys.toml").unwrap();
    let table = [Layer::Table, Layer::Global];
    assert_eq!(keymap.resolve(&table, key("ctrl-n")), Some(Action::Down));
    assert_eq!(keymap.resolve(&table, key("c")), Some(Action::Refresh));
    assert_eq!(keymap.resolve(&table, key("space")), None);
    assert_eq!(
        keymap.resolve(&table, key("j")),
        Some(Action::Down),
        "untouched defaults stay"
    );
    assert_eq!(keymap.resolve(&table, key("r")), Some(Action::Refresh));
    // Unbinding in a layer uncovers the layer below.
    assert_eq!(
        keymap.resolve(&[Layer::Diff, Layer::Global], key("q")),
        Some(Action::Quit)
    );
    // The Execution layer's space is a different binding and is untouched.
    assert_eq!(keymap.resolve(&[Layer::Execution], key("space")), Some(Action::Pause));
    // A rebound key keeps its place; an added one goes last.
    let table_keys: Vec<String> = keymap.bindings(Layer::Table).map(|(c, _)| c.to_string()).collect();
    assert_eq!(table_keys.first().map(String::as_str), Some("/"));
    assert_eq!(table_keys[1], "c");
    assert_eq!(table_keys.last().map(String::as_str), Some("ctrl-n"));
}

#[test]
fn override_keys_are_normalised_before_comparing() {
    let text = "[keys.global]\n\"shift-g\" = \"top\"\n\"backtab\" = \"none\"\n";
    let keymap = Keymap::defaults().with_overrides(text, "k").unwrap();
    assert_eq!(keymap.get(Layer::Global, chord("G")), Some(Action::Top));
    assert_eq!(keymap.get(Layer::Global, chord("shift-tab")), None);
    let empty = Keymap::defaults().with_overrides("", "k").unwrap();
    assert_eq!(empty, Keymap::defaults());
}

fn error(text: &str) -> String {
    Keymap::defaults()
        .with_overrides(text, "keys.toml")
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_files_name_the_line_layer_and_key() {
    let unknown_layer = error("\n[keys.tabel]\n\"j\" = \"down\"\n");
    assert!(
        unknown_layer.starts_with("keys.toml:2: unknown layer [keys.tabel]"),
        "{unknown_layer}"
    );
    assert!(
        unknown_layer.contains("table, journal_pane, participants, lead, node, global"),
        "{unknown_layer}"
    );

    let bad_key = error("[keys.table]\n\"j\" = \"down\"\n\"ctrl-sapce\" = \"down\"\n");
    assert!(
        bad_key.starts_with("keys.toml:3: [keys.table] \"ctrl-sapce\" is not a key"),
        "{bad_key}"
    );
    assert!(bad_key.contains("`sapce`"), "{bad_key}");

    let bad_modifier = error("[keys.table]\n\"cmd-j\" = \"down\"\n");
    assert!(bad_modifier.contains("unknown modifier `cmd`"), "{bad_modifier}");

    let unknown_action = error("[keys.plan]\n\n\"x\" = \"exectue\"\n");
    assert!(
        unknown_action.starts_with("keys.toml:3: [keys.plan] \"x\" = \"exectue\": unknown action"),
        "{unknown_action}"
    );
    assert!(unknown_action.contains("\"none\" to unbind"), "{unknown_action}");
    assert!(unknown_action.contains("execute"), "{unknown_action}");

    let duplicate = error("[keys.global]\n\"J\" = \"journal\"\n\"shift-j\" = \"quit\"\n");
    assert!(
        duplicate.starts_with("keys.toml:3: [keys.global] \"shift-j\" is the same key as \"J\""),
        "{duplicate}"
    );

    let not_a_string = error("[keys.table]\n\"j\" = 3\n");
    assert!(
        not_a_string.starts_with("key file keys.toml is not valid TOML"),
        "{not_a_string}"
    );
    assert!(not_a_string.contains("line 2"), "{not_a_string}");

    let stray = error("[bindings.table]\n\"j\" = \"down\"\n");
    assert!(stray.contains("unknown field `bindings`"), "{stray}");

    let broken = error("[keys.table\n");
    assert!(broken.contains("line 1"), "{broken}");
}

#[test]
fn a_bad_file_applies_nothing() {
    let result = Keymap::defaults().with_overrides("[keys.table]\n\"a\" = \"quit\"\n\"b\" = \"nope\"\n", "k");
    assert!(matches!(result, Err(KeymapError::UnknownAction { line: 3, .. })));
}

#[test]
fn load_reads_a_file_and_reports_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.toml");
    std::fs::write(&path, "[keys.global]\n\"ctrl-q\" = \"quit\"\n").unwrap();
    let keymap = Keymap::load(&path).unwrap();
    assert_eq!(keymap.resolve(&[Layer::Global], key("ctrl-q")), Some(Action::Quit));
    let missing = Keymap::load(&dir.path().join("nope.toml")).unwrap_err();
    assert!(matches!(missing, KeymapError::Read { .. }));
    assert!(missing.to_string().contains("nope.toml"), "{missing}");
}

#[test]
fn read_only_unbinds_every_destructive_action_everywhere() {
    let full = Keymap::defaults();
    let ro = Keymap::defaults().read_only();
    assert!(ro.is_read_only() && !full.is_read_only());
    for layer in Layer::ALL {
        assert!(ro.bindings(layer).all(|(_, a)| !a.destructive()), "{layer}");
        let kept: Vec<_> = full.bindings(layer).filter(|(_, a)| !a.destructive()).collect();
        assert_eq!(
            ro.bindings(layer).collect::<Vec<_>>(),
            kept,
            "{layer}: non-destructive keys intact"
        );
    }
    for stack in STACKS {
        for (_, action) in Layer::ALL.iter().flat_map(|&l| full.bindings(l)) {
            if action.destructive() {
                assert!(ro.help(stack).iter().all(|e| e.action != action), "{action} in help");
            }
        }
    }
    assert_eq!(ro.resolve(&[Layer::Plan, Layer::Global], key("x")), None);
    assert_eq!(ro.resolve(&[Layer::Table, Layer::Global], key("space")), None);
    assert_eq!(
        ro.resolve(&[Layer::Execution, Layer::Global], key("space")),
        Some(Action::Pause)
    );
    assert_eq!(
        ro.resolve(&[Layer::Table, Layer::Global], key("p")),
        Some(Action::PlanPreview)
    );
}

#[test]
fn read_only_stays_read_only_through_later_overrides() {
    let mut ro = Keymap::defaults().read_only();
    ro.bind(Layer::Global, chord("ctrl-x"), Action::Execute);
    assert_eq!(ro.get(Layer::Global, chord("ctrl-x")), None);
    let ro = ro
        .with_overrides("[keys.table]\n\"enter\" = \"execute\"\n\"y\" = \"up\"\n", "k")
        .unwrap();
    assert_eq!(
        ro.get(Layer::Table, chord("enter")),
        None,
        "a destructive rebind unbinds"
    );
    assert_eq!(ro.get(Layer::Table, chord("y")), Some(Action::Up));
    assert!(
        Layer::ALL
            .iter()
            .all(|&l| ro.bindings(l).all(|(_, a)| !a.destructive()))
    );
}

#[test]
fn every_help_key_does_what_its_entry_says() {
    for keymap in [Keymap::defaults(), Keymap::defaults().read_only()] {
        for stack in STACKS {
            for entry in keymap.help(stack) {
                for text in &entry.keys {
                    assert_eq!(
                        keymap.resolve(stack, key(text)),
                        Some(entry.action),
                        "{stack:?}: {text} listed for {}",
                        entry.action
                    );
                }
            }
        }
    }
}

#[test]
fn help_hides_shadowed_keys_and_groups_keys_per_action() {
    let keymap = Keymap::defaults();
    let help = keymap.help(&[Layer::Diff, Layer::Global]);
    let find = |layer, action| help.iter().find(|e| e.layer == layer && e.action == action);
    assert_eq!(find(Layer::Diff, Action::NextPair).unwrap().keys, ["tab"]);
    assert_eq!(find(Layer::Diff, Action::Clear).unwrap().keys, ["esc", "q"]);
    assert_eq!(find(Layer::Global, Action::FocusNext), None, "tab is the diff's");
    assert_eq!(find(Layer::Global, Action::Clear), None, "esc is the diff's");
    assert_eq!(find(Layer::Global, Action::Quit).unwrap().keys, ["ctrl-c"]);
    assert_eq!(find(Layer::Global, Action::Down).unwrap().keys, ["j", "down"]);
    assert_eq!(
        keymap.help(&[Layer::Prompt, Layer::Global]).len(),
        2,
        "nothing below a prompt"
    );
    let layers: Vec<Layer> = help.iter().map(|e| e.layer).collect();
    assert!(layers.windows(2).all(|w| w[0] <= w[1]), "priority order");
}

#[test]
fn hints_follow_the_top_layer_and_skip_unbound_actions() {
    let full = Keymap::defaults();
    let texts = |keymap: &Keymap, stack: &[Layer]| -> Vec<String> {
        keymap
            .hints(stack)
            .iter()
            .map(|h| format!("{} {}", h.key, h.label))
            .collect()
    };
    assert_eq!(
        texts(&full, &[Layer::Plan, Layer::Global]),
        [
            "x execute",
            "i intersection",
            "u union",
            "m manual",
            "esc back",
            "? help",
            "q quit"
        ]
    );
    assert_eq!(
        texts(&full.clone().read_only(), &[Layer::Plan, Layer::Global]),
        ["esc back", "? help", "q quit"]
    );
    assert_eq!(texts(&full, &[Layer::Global, Layer::Prompt]), ["enter ok", "esc back"]);
    assert!(full.hints(&[]).is_empty());
    for stack in STACKS {
        let hints = full.hints(stack);
        assert!((1..=7).contains(&hints.len()), "{stack:?}");
        for hint in hints {
            assert_eq!(full.resolve(stack, key(&hint.key)), Some(hint.action), "{stack:?}");
        }
    }
}

#[test]
fn key_for_names_the_key_that_wins() {
    let keymap = Keymap::defaults();
    let name = |stack: &[Layer], action| keymap.key_for(stack, action).map(|k| k.to_string());
    assert_eq!(name(&[Layer::Table, Layer::Global], Action::Down).as_deref(), Some("j"));
    assert_eq!(
        name(&[Layer::Diff, Layer::Global], Action::Clear).as_deref(),
        Some("esc")
    );
    assert_eq!(
        name(&[Layer::Diff, Layer::Global], Action::FocusNext),
        None,
        "the diff's tab shadows Global's, and shift-tab is not focus_next"
    );
    assert_eq!(
        name(&[Layer::Finished, Layer::Global], Action::CompareTarget).as_deref(),
        Some("t")
    );
    let read_only = keymap.clone().read_only();
    assert_eq!(read_only.key_for(&[Layer::Plan, Layer::Global], Action::Execute), None);
    let rebound = keymap
        .with_overrides(
            "[keys.confirm]\n\"ctrl-s\" = \"submit\"\n\"enter\" = \"none\"\n",
            "test",
        )
        .unwrap();
    assert_eq!(
        rebound
            .key_for(&[Layer::Confirm], Action::Submit)
            .map(|k| k.to_string())
            .as_deref(),
        Some("ctrl-s")
    );
}

fn help_listing(keymap: &Keymap) -> String {
    let mut out = String::new();
    for layer in Layer::ALL {
        let _ = writeln!(
            out,
            "[{layer}]{}",
            if layer.captures_input() {
                " (captures input)"
            } else {
                ""
            }
        );
        for entry in keymap.help(&[layer]) {
            let _ = writeln!(
                out,
                "  {:<22} {:<22} {}",
                entry.keys.join(", "),
                entry.action,
                entry.description
            );
        }
    }
    out
}

#[test]
fn default_help_listing() {
    snapshot("default_help", help_listing(&Keymap::defaults()));
}

#[test]
fn read_only_help_listing() {
    snapshot("read_only_help", help_listing(&Keymap::defaults().read_only()));
}

#[test]
fn status_hints() {
    let mut out = String::new();
    for stack in STACKS {
        let hints: Vec<String> = Keymap::defaults()
            .hints(stack)
            .into_iter()
            .map(|h| format!("{} {}", h.key, h.label))
            .collect();
        let names: Vec<&str> = stack.iter().map(|l| l.name()).collect();
        let _ = writeln!(out, "{:<20} {}", names.join("+"), hints.join("  "));
    }
    snapshot("status_hints", out);
}

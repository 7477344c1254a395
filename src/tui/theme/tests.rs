use super::*;
use ratatui::style::{Color, Modifier};
use std::fmt::Write as _;

fn snapshot<T: std::fmt::Display>(name: &str, value: T) {
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, value);
    });
}

fn parse(text: &str) -> Result<Theme, ThemeError> {
    Theme::from_toml(text, "test.toml", "test")
}

fn error(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn every_role_falls_back_to_base_without_cycles() {
    for role in Role::ALL {
        let mut steps = 0;
        let mut current = role;
        while let Some(parent) = current.parent() {
            current = parent;
            steps += 1;
            assert!(steps <= 4, "{role} has a long or cyclic fallback chain");
        }
        assert_eq!(current, Role::Base, "{role}");
    }
}

#[test]
fn role_names_match_serde() {
    for role in Role::ALL {
        assert_eq!(
            serde_json::to_value(role).unwrap(),
            serde_json::Value::String(role.name().into())
        );
    }
    assert!(Role::ALL.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn every_preset_parses_stands_alone_and_sets_every_role() {
    for name in Theme::PRESETS {
        let spec = file::preset_spec(name).unwrap();
        assert_eq!(spec.base, None, "{name}: presets must not have a base");
        assert_eq!(spec.name.as_deref(), Some(name));
        for role in Role::ALL {
            assert!(spec.style(role).is_some(), "{name} does not set {role}");
        }
        assert_eq!(Theme::preset(name).unwrap().name(), name);
    }
    assert!(matches!(Theme::preset("solarized"), Err(ThemeError::UnknownPreset(_))));
    let message = Theme::preset("solarized").unwrap_err().to_string();
    assert_eq!(
        message,
        "unknown theme `solarized`; built-in themes are dark, light, high-contrast, mono"
    );
}

#[test]
fn roles_that_mean_different_things_look_different_in_every_preset() {
    let groups: &[&[Role]] = &[
        &[Role::Base, Role::Selection],
        &[Role::Base, Role::Danger],
        &[Role::Border, Role::FocusBorder],
        &[Role::Agreed, Role::Missing, Role::Archived, Role::Differs],
        &[Role::Added, Role::Removed, Role::Changed],
        &[Role::Gauge, Role::GaugeDone],
        &[Role::Base, Role::ReadOnly],
    ];
    for name in Theme::PRESETS {
        let theme = Theme::preset(name).unwrap();
        for group in groups {
            for (i, a) in group.iter().enumerate() {
                for b in &group[i + 1..] {
                    assert_ne!(theme.style(*a), theme.style(*b), "{name}: {a} and {b} look the same");
                }
            }
        }
    }
}

#[test]
fn mono_uses_reset_and_four_attributes_only() {
    let mono = Theme::preset("mono").unwrap();
    let allowed = Modifier::BOLD | Modifier::REVERSED | Modifier::UNDERLINED | Modifier::DIM;
    for role in Role::ALL {
        let style = mono.style(role);
        assert_eq!(style.fg, Some(Color::Reset), "{role}");
        assert_eq!(style.bg, Some(Color::Reset), "{role}");
        assert!(allowed.contains(style.add_modifier), "{role}: {:?}", style.add_modifier);
        assert!(style.sub_modifier.is_empty(), "{role}");
    }
}

#[test]
fn high_contrast_pairs_are_bright() {
    let bright = |c: Option<Color>| {
        matches!(
            c,
            Some(
                Color::White
                    | Color::Gray
                    | Color::LightRed
                    | Color::LightGreen
                    | Color::LightYellow
                    | Color::LightBlue
                    | Color::LightMagenta
                    | Color::LightCyan
            )
        )
    };
    let theme = Theme::preset("high-contrast").unwrap();
    for role in Role::ALL {
        let style = theme.style(role);
        let light_on_dark = bright(style.fg) && matches!(style.bg, None | Some(Color::Black));
        let dark_on_light = style.fg == Some(Color::Black) && bright(style.bg);
        assert!(light_on_dark || dark_on_light, "{role}: {style:?}");
        assert!(!style.add_modifier.contains(Modifier::DIM), "{role}");
    }
}

#[test]
fn no_color_selects_mono_when_set_and_not_empty() {
    let name = |v: Option<&str>| Theme::choose("light", v.map(OsStr::new)).unwrap().name().to_string();
    assert_eq!(name(None), "light");
    assert_eq!(name(Some("")), "light", "an empty NO_COLOR does not count");
    assert_eq!(name(Some("1")), "mono");
    assert_eq!(name(Some("0")), "mono", "any non-empty value counts");
    assert!(matches!(
        Theme::choose("lihgt", Some(OsStr::new("1"))),
        Err(ThemeError::UnknownPreset(_))
    ));
}

#[test]
fn partial_override_keeps_the_base_roles() {
    let dark = Theme::preset("dark").unwrap();
    let theme = parse(
        r##"
name = "night-shift"
base = "dark"

[styles.danger]
fg = "#ff5f5f"

[styles.selection]
modifiers = []
"##,
    )
    .unwrap();
    assert_eq!(theme.name(), "night-shift");
    let danger = theme.style(Role::Danger);
    assert_eq!(danger.fg, Some(Color::Rgb(0xff, 0x5f, 0x5f)));
    assert_eq!(
        danger.add_modifier,
        dark.style(Role::Danger).add_modifier,
        "unset fields come from the base"
    );
    assert_eq!(theme.style(Role::Selection).bg, dark.style(Role::Selection).bg);
    assert_eq!(
        theme.style(Role::Selection).add_modifier,
        Modifier::empty(),
        "an empty list clears"
    );
    for role in Role::ALL {
        if !matches!(role, Role::Danger | Role::Selection) {
            assert_eq!(theme.style(role), dark.style(role), "{role}");
        }
    }
}

#[test]
fn a_standalone_partial_file_falls_back_along_parents() {
    let theme = parse(
        r#"
[styles]
base = { fg = "white" }
danger = { fg = "red", modifiers = ["bold"] }
accent = { fg = "cyan" }
"#,
    )
    .unwrap();
    assert_eq!(theme.name(), "test");
    assert_eq!(theme.style(Role::Removed), theme.style(Role::Danger));
    assert_eq!(
        theme.style(Role::Header),
        theme.style(Role::Accent),
        "header -> title -> accent"
    );
    assert_eq!(
        theme.style(Role::Missing),
        theme.style(Role::Base),
        "missing -> warn -> base"
    );
    assert_eq!(
        theme.style(Role::Cursor).fg,
        Some(Color::White),
        "cursor -> selection -> base"
    );
    let empty = parse("").unwrap();
    assert!(Role::ALL.iter().all(|&r| empty.style(r) == Style::default()));
}

#[test]
fn colours_accept_names_hex_and_indices() {
    let theme = parse(
        r##"
[styles]
base = { fg = "light-blue", bg = "#102030" }
muted = { fg = "242" }
title = { fg = 17 }
border = { fg = "Dark Gray" }
"##,
    )
    .unwrap();
    assert_eq!(theme.style(Role::Base).fg, Some(Color::LightBlue));
    assert_eq!(theme.style(Role::Base).bg, Some(Color::Rgb(0x10, 0x20, 0x30)));
    assert_eq!(theme.style(Role::Muted).fg, Some(Color::Indexed(242)));
    assert_eq!(theme.style(Role::Title).fg, Some(Color::Indexed(17)));
    assert_eq!(theme.style(Role::Border).fg, Some(Color::DarkGray));
}

#[test]
fn bad_files_say_what_and_where() {
    let colour = error("[styles.danger]\nfg = \"purplish\"\n");
    assert!(colour.starts_with("theme test.toml is not valid"), "{colour}");
    assert!(colour.contains("line 2"), "{colour}");
    assert!(colour.contains("unknown colour \"purplish\""), "{colour}");

    let index = error("[styles.danger]\nbg = 300\n");
    assert!(index.contains("index 0-255"), "{index}");

    let role = error("[styles.dangr]\nfg = \"red\"\n");
    assert!(role.contains("unknown variant `dangr`"), "{role}");

    let field = error("[styles.danger]\nforeground = \"red\"\n");
    assert!(field.contains("unknown field `foreground`"), "{field}");

    let modifier = error("[styles.danger]\nmodifiers = [\"blink\"]\n");
    assert!(modifier.contains("unknown variant `blink`"), "{modifier}");

    let base = error("base = \"drak\"\n");
    assert_eq!(
        base,
        "theme test.toml: base = \"drak\" is not a built-in theme (dark, light, high-contrast, mono)"
    );
}

#[test]
fn load_reads_a_user_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ops.toml");
    std::fs::write(&path, "base = \"high-contrast\"\n[styles.warn]\nfg = \"white\"\n").unwrap();
    let theme = Theme::load(&path).unwrap();
    assert_eq!(theme.name(), "ops");
    assert_eq!(theme.style(Role::Warn).fg, Some(Color::White));
    let missing = Theme::load(&dir.path().join("nope.toml")).unwrap_err();
    assert!(matches!(missing, ThemeError::Read { .. }), "{missing}");
}

#[test]
fn roles_and_presets() {
    let mut out = String::new();
    for role in Role::ALL {
        let parent = role.parent().map_or("-", Role::name);
        let _ = writeln!(out, "{:<13} <- {parent}", role.name());
    }
    for name in Theme::PRESETS {
        let theme = Theme::preset(name).unwrap();
        let _ = writeln!(out, "\n[{name}]");
        for role in Role::ALL {
            let s = theme.style(role);
            let _ = writeln!(
                out,
                "{:<13} fg={:<14} bg={:<14} {:?}",
                role.name(),
                s.fg.map_or("-".to_string(), |c| c.to_string()),
                s.bg.map_or("-".to_string(), |c| c.to_string()),
                s.add_modifier
            );
        }
    }
    snapshot("theme_roles_and_presets", out);
}

/// The rest of the crate must go through roles; a raw colour would escape every theme,
/// including mono under `NO_COLOR`.
#[test]
fn no_raw_colours_outside_the_theme() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let theme_dir = root.join("tui").join("theme");
    let theme_file = root.join("tui").join("theme.rs");
    let named = [
        "black",
        "red",
        "green",
        "yellow",
        "blue",
        "magenta",
        "cyan",
        "gray",
        "dark_gray",
        "white",
    ];
    let mut needles: Vec<String> = ["Color::", "style::Color", "{Color", " Color,", " Color}"]
        .map(String::from)
        .to_vec();
    for name in named {
        for prefix in ["", "on_", "light_", "on_light_"] {
            needles.push(format!(".{prefix}{name}()"));
        }
    }
    let mut stack = vec![root];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path == theme_dir || path == theme_file {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for needle in &needles {
                    if text.contains(needle.as_str()) {
                        offenders.push(format!("{}: {needle}", path.display()));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "use theme.style(Role::…) instead:\n{}",
        offenders.join("\n")
    );
}

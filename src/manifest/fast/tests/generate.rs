//! Generators of manifests for the agreement tests: the usual shape with every TOML form of
//! its values (well-typed mostly, sometimes odd keys, wrong values, odd headers), and
//! fixtures with characters or snippets inserted, replaced or deleted.

use proptest::prelude::*;

use crate::manifest::BUILTIN_OPENIM;

fn pick(options: &'static [&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(options)
        .prop_map(str::to_owned)
        .boxed()
}

const STRINGS: &[&str] = &[
    "\"x\"",
    "'/bin/a'",
    "\"\"",
    "\"a\\\"b\\\\c\"",
    "\"\\u00e9\\U0001F600\\x41\\e\\b\\f\\n\\r\\t\"",
    "\"\"\"\n[services.x]\ncommand = []\n\"\"\"",
    "'''\n[services.y] # not a header\n'''",
    "\"\"\"a\\\n   b\"\"\"",
    "\"\"\"q\"\"\"\"",
    "\"\"\"q\"\"\"\"\"",
    "''''q'''",
    "\"tab\there é\"",
    "\"h:1\"",
    "\"5s\"",
    "\"always\"",
    "\"strict\"",
    "\"SIGTERM\"",
    "\"512M\"",
    "\"\\q\"",
    "\"open",
    "'\u{7f}'",
    "\"\"\"\"\"\"\"",
];

const SCALARS: &[&str] = &[
    "0",
    "-1",
    "+5",
    "3",
    "007",
    "1_000",
    "0x10",
    "1.5",
    "1e3",
    "inf",
    "true",
    "false",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "1979-05-27",
    "07:32:00",
    "truex",
    "-",
    "nan",
];

fn string() -> BoxedStrategy<String> {
    pick(STRINGS)
}

fn scalar() -> BoxedStrategy<String> {
    prop_oneof![3 => string(), 1 => pick(SCALARS)].boxed()
}

/// Separators inside arrays and inline tables: spaces, line breaks, comments.
fn gap() -> BoxedStrategy<String> {
    pick(&["", " ", "\n", " # [services.z] ]\n  ", "\t", "\n\n"])
}

fn array(element: BoxedStrategy<String>) -> BoxedStrategy<String> {
    (
        prop::collection::vec((element, gap(), gap()), 0..4),
        pick(&["", ",", ", ", ",,"]),
        gap(),
    )
        .prop_map(|(items, trailing, end)| {
            let body: Vec<String> = items.iter().map(|(v, a, b)| format!("{a}{v}{b}")).collect();
            let trailing = if body.is_empty() { "" } else { &trailing };
            format!("[{}{trailing}{end}]", body.join(","))
        })
        .boxed()
}

fn inline_table(value: BoxedStrategy<String>) -> BoxedStrategy<String> {
    let key = pick(&[
        "tcp", "interval", "retries", "A", "\"B C\"", "'c'", "image", "ports", "a.b", "stdout",
        "burst", "nofile", "A",
    ]);
    (
        prop::collection::vec((key, value, gap()), 0..4),
        pick(&["", ",", " , "]),
    )
        .prop_map(|(items, trailing)| {
            let body: Vec<String> = items
                .iter()
                .map(|(k, v, g)| format!("{g}{k} = {v}"))
                .collect();
            let trailing = if body.is_empty() { "" } else { &trailing };
            format!("{{ {}{trailing} }}", body.join(", "))
        })
        .boxed()
}

fn value() -> BoxedStrategy<String> {
    let leaf = scalar();
    leaf.prop_recursive(
        3,
        24,
        4,
        |inner| prop_oneof![2 => array(inner.clone()), 1 => inline_table(inner)],
    )
    .boxed()
}

/// Strings that are valid TOML (of every form).
const GOOD_STRINGS: &[&str] = &[
    "\"x\"",
    "'/bin/a'",
    "\"a\\\"b\\\\c\"",
    "\"\\u00e9\\U0001F600\\x41\\e\\b\\f\\n\\r\\t\"",
    "\"\"\"\n[services.x]\ncommand = []\n\"\"\"",
    "'''\n[services.y] # not a header\n'''",
    "\"\"\"a\\\n   b\"\"\"",
    "\"\"\"q\"\"\"\"",
    "''''q'''",
    "\"tab\there é\"",
    "\"{instance}\"",
];

fn good_string() -> BoxedStrategy<String> {
    pick(GOOD_STRINGS)
}

/// A list in any valid layout.
fn list(element: BoxedStrategy<String>) -> BoxedStrategy<String> {
    (
        prop::collection::vec((element, gap(), gap()), 1..4),
        pick(&["", ",", " , "]),
        gap(),
    )
        .prop_map(|(items, trailing, end)| {
            let body: Vec<String> = items.iter().map(|(v, a, b)| format!("{a}{v}{b}")).collect();
            format!("[{}{trailing}{end}]", body.join(","))
        })
        .boxed()
}

/// An inline table of some of `keys` with values from `value`, in any valid layout.
fn table_of(keys: &'static [&'static str], value: BoxedStrategy<String>) -> BoxedStrategy<String> {
    (
        prop::sample::subsequence(keys, 1..=keys.len().min(4)),
        prop::collection::vec((value, gap()), 4),
        pick(&["", ",", " , "]),
    )
        .prop_map(|(keys, values, trailing)| {
            let body: Vec<String> = keys
                .iter()
                .zip(&values)
                .map(|(k, (v, g))| format!("{g}{k} = {v}"))
                .collect();
            format!("{{ {}{trailing} }}", body.join(", "))
        })
        .boxed()
}

/// A well-typed value for a key of a service, external or group.
fn typed(key: &str) -> BoxedStrategy<String> {
    match key {
        "command" | "requires" | "wants" | "after" | "capabilities" | "services" => {
            list(good_string())
        }
        "instances" => {
            prop_oneof![pick(&["1", "+3", "2"]), list(pick(&["\"eu\"", "'us'"]))].boxed()
        }
        "environment" => table_of(&["A", "\"B C\"", "'c'", "D_1", "e-f"], good_string()),
        "restart" => pick(&["\"always\"", "'on-failure'", "\"never\""]),
        "restart_delay" | "stop_timeout" | "wait_timeout" => pick(&["\"5s\"", "'2min'"]),
        "start_limit" => pick(&[
            "{ burst = 5, interval = \"1min\" }",
            "{interval='1s',burst=0,}",
        ]),
        "stop_signal" => pick(&["\"TERM\"", "'SIGKILL'", "\"hup\""]),
        "success_exit_codes" => list(pick(&["0", "-1", "255", "+2"])),
        "limits" => table_of(&["nofile", "nproc", "cpu_quota"], pick(&["1", "200000"])),
        "logs" => table_of(&["stdout", "stderr"], pick(&["\"/l\"", "'/var/log/x.log'"])),
        "health" | "check" => prop_oneof![
            table_of(&["tcp", "http", "interval", "timeout"], pick(&["\"5s\""])),
            pick(&[
                "{ tcp = \"h:1\", interval = \"5s\", retries = 3 }",
                "{ exec = [\"/bin/true\"] }"
            ]),
        ]
        .boxed(),
        "pre_start" => list(list(good_string())),
        "container" => pick(&[
            "{ image = \"i:1\", ports = [80, 443], volumes = ['/d:/d:ro'] }",
            "{\n  image = 'i',\n  environment = { A = \"{bind}\" }, # c\n}",
        ]),
        "sandbox" => pick(&["\"strict\"", "'basic'", "\"off\""]),
        "defaults" => pick(&["{ user = \"u\", limits = { nofile = 1 } }"]),
        _ => good_string(),
    }
}

const SERVICE_KEYS: &[&str] = &[
    "description",
    "command",
    "instances",
    "environment",
    "user",
    "restart",
    "restart_delay",
    "start_limit",
    "stop_signal",
    "success_exit_codes",
    "limits",
    "logs",
    "requires",
    "wants",
    "health",
    "pre_start",
    "container",
    "sandbox",
    "capabilities",
];

/// Odd keys: wrong tables, quoted, dotted, unknown.
const ODD_KEYS: &[&str] = &[
    "check",
    "services",
    "wait_timeout",
    "name",
    "\"user\"",
    "health.tcp",
    "bogus",
    "tcp",
];

/// The lines of a table body: distinct well-typed keys, sometimes an odd key or a wrong
/// value, comments and blank lines.
fn body(keys: &'static [&'static str]) -> BoxedStrategy<String> {
    let odd = prop_oneof![
        8 => Just(String::new()),
        1 => (pick(ODD_KEYS), value()).prop_map(|(k, v)| format!("{k} = {v}\n")),
        1 => (pick(keys), value()).prop_map(|(k, v)| format!("{k} = {v}\n")),
        2 => pick(&["\n", "# [services.q]\n", "  # comment\n", "\t\n"]),
    ];
    (prop::sample::subsequence(keys, 0..=keys.len().min(5)), odd)
        .prop_flat_map(|(keys, odd)| {
            let lines: Vec<BoxedStrategy<String>> = keys
                .into_iter()
                .map(|k: &'static str| {
                    (typed(k), pick(&["", " # [x]", "\t", " # ]]"]))
                        .prop_map(move |(v, c)| format!("{k} = {v}{c}\n"))
                        .boxed()
                })
                .collect();
            (lines, Just(odd)).prop_map(|(lines, odd)| lines.concat() + &odd)
        })
        .boxed()
}

/// A sub-table header of a service and its body.
fn sub_table() -> BoxedStrategy<String> {
    prop_oneof![
        3 => Just(String::new()),
        1 => (
            pick(&["health", "container", "limits", "logs"]),
            body(&["tcp", "interval", "image", "nofile", "stdout"]),
        )
            .prop_map(|(t, b)| format!("[services.N.{t}]\n{b}")),
    ]
    .boxed()
}

fn section() -> BoxedStrategy<String> {
    let name = pick(&["a", "b", "c", "d", "svc-1", "\"e.f\"", "'g'", "\"a\"", "7"]);
    let service = pick(&["[services.N]", "[ services . N ]", "[services.N] # [x]"]);
    let odd = pick(&[
        "[defaults]",
        "[services]",
        "[defaults.container]",
        "[[services.a]]",
        "[other]",
        "[services.a.health]",
    ]);
    prop_oneof![
        6 => (service, name.clone(), body(SERVICE_KEYS), sub_table())
            .prop_map(|(h, n, b, sub)| format!("{h}\n{b}{sub}").replace('N', &n)),
        1 => (name.clone(), body(&["description", "wait_timeout"]), typed("check"))
            .prop_map(|(n, b, c)| format!("[external.{n}]\ncheck = {c}\n{b}")),
        1 => (name, list(pick(&["\"a\"", "'b'"])))
            .prop_map(|(n, l)| format!("[groups.{n}]\nservices = {l}\n")),
        1 => (odd, body(SERVICE_KEYS)).prop_map(|(h, b)| format!("{h}\n{b}")),
    ]
    .boxed()
}

pub fn manifest() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            8 => pick(&["name = \"stack\"\n", "name = 'stack' # [services.x]\n"]),
            1 => pick(&["", "name = 1\n", "name = \"x\"\nname = \"y\"\n"]),
        ],
        body(&["description", "defaults"]),
        prop::collection::vec(section(), 0..6),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(name, preamble, sections, crlf, bom)| {
            let mut t = String::from(if bom { "\u{feff}" } else { "" });
            t.push_str(&name);
            t.push_str(&preamble);
            t.extend(sections);
            if crlf { t.replace('\n', "\r\n") } else { t }
        })
}

/// A fixture with a few characters or snippets inserted, replaced or deleted.
pub fn mutated() -> impl Strategy<Value = String> {
    let base = prop::sample::select(vec![
        BUILTIN_OPENIM,
        include_str!("../../../../tests/fixtures/full.toml"),
        include_str!("../../../../tests/fixtures/minimal.toml"),
    ]);
    let snippet = pick(&[
        "[",
        "]",
        "{",
        "}",
        "\"",
        "'",
        "\"\"\"",
        "'''",
        ",",
        ".",
        "=",
        "#",
        "\\",
        "\n",
        "\r",
        "\r\n",
        " ",
        "\t",
        "\u{0}",
        "é",
        "1",
        "a",
        "[services.x]\n",
        "[services.a.health]\n",
        "x = 1\n",
        "\n[services.openim-api]\n",
        "\n[defaults]\n",
    ]);
    let edits = prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, snippet), 1..6);
    (base, edits).prop_map(|(base, edits)| {
        let mut text = base.to_owned();
        for (at, kind, s) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            let end = text[i..].chars().next().map_or(i, |c| i + c.len_utf8());
            match kind {
                0 => text.insert_str(i, &s),
                1 => text.replace_range(i..end, &s),
                _ => text.replace_range(i..end, ""),
            }
        }
        text
    })
}

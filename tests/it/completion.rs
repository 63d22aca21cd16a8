//! Shell completion and man pages as a user meets them: the committed scripts in completions/
//! driven through real completion in bash, zsh and fish (what <TAB> would offer), and every page
//! in man/ formatted by plain groff and linted by mandoc. What ought to complete is read from the
//! binary's own `--help`, so these tests follow the command line as it changes.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// A file and a directory in the directory completion runs in: a path's value offers them, no
/// other value may.
const DECOY_FILE: &str = "decoy-file.txt";
const DECOY_DIR: &str = "decoy-dir";
/// What the drivers print before each line's candidates.
const MARK: &str = "<<<query>>>";
/// Seconds a whole shell run may take: generous for a loaded two-core machine (a run takes well
/// under a second), and short enough that a hung shell fails the test instead of the CI job.
const TIME_LIMIT: &str = "120";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------------------------
// What --help says

/// One command as its `--help` shows it.
#[derive(Debug)]
struct Help {
    /// The words after the binary's name: `[]`, `["create"]`, `["vault", "init"]`.
    path: Vec<String>,
    flags: Vec<Flag>,
    /// The placeholders of its positionals: `ID|NAME`, `FILE|-`.
    positionals: Vec<String>,
    /// Its subcommands, `help` included.
    commands: Vec<String>,
}

#[derive(Debug)]
struct Flag {
    /// `-q`, `--quiet`.
    names: Vec<String>,
    /// The placeholder of its value, if it takes one: `NAME`, `DIR`.
    value: Option<String>,
}

/// Whether a placeholder stands for a path (`DIR`, `PATH`, `FILE`, `FILE|-`).
fn is_path(placeholder: &str) -> bool {
    placeholder
        .split('|')
        .any(|p| matches!(p, "DIR" | "PATH" | "FILE"))
}

impl Help {
    fn line(&self) -> String {
        std::iter::once("vbx-tokens")
            .chain(self.path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[track_caller]
fn help(path: &[String]) -> Help {
    let out = Env::new()
        .std_cmd()
        .args(path)
        .arg("--help")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{path:?} --help: {}", stderr(&out));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut h = Help {
        path: path.to_vec(),
        flags: Vec::new(),
        positionals: Vec::new(),
        commands: Vec::new(),
    };
    let mut section = "";
    for line in text.lines() {
        let entry = line.trim_start();
        if entry.is_empty() {
            continue;
        }
        if entry.len() == line.len() {
            section = line.trim_end();
            continue;
        }
        // Entries are indented by 2 (6 for a long-only flag); a description that wraps goes on
        // further in.
        if line.len() - entry.len() > 6 {
            continue;
        }
        let spec = entry.split("  ").next().expect("split yields one");
        match section {
            "Options:" if spec.starts_with('-') => {
                let words = spec.split([',', ' ']).filter(|w| !w.is_empty());
                let mut flag = Flag {
                    names: Vec::new(),
                    value: None,
                };
                for word in words {
                    if word.starts_with('-') {
                        flag.names.push(word.to_owned());
                    } else {
                        flag.value = Some(word.trim_matches(['<', '>', '[', ']', '.']).to_owned());
                    }
                }
                h.flags.push(flag);
            }
            "Arguments:" => h
                .positionals
                .push(spec.trim_matches(['<', '>', '[', ']', '.']).to_owned()),
            "Commands:" => h.commands.push(spec.trim().to_owned()),
            _ => {}
        }
    }
    assert!(
        h.flags
            .iter()
            .any(|f| f.names.iter().any(|n| n == "--help")),
        "no --help among the flags parsed from {path:?} --help:\n{text}"
    );
    h
}

/// Every visible command, the root and nested ones included (`help` aside: it takes no flags).
fn commands() -> Vec<Help> {
    let mut out = Vec::new();
    let mut todo = vec![Vec::new()];
    while let Some(path) = todo.pop() {
        let h = help(&path);
        for c in h.commands.iter().filter(|c| *c != "help") {
            let mut deeper = path.clone();
            deeper.push(c.clone());
            todo.push(deeper);
        }
        out.push(h);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    assert!(out.len() >= 10, "{out:?}");
    assert!(
        out.iter().any(|h| h.path == ["vault", "init"]),
        "vault init is missing: {out:?}"
    );
    out
}

// ---------------------------------------------------------------------------------------------
// What completion must offer

enum Expect {
    /// Offers every one of these (among others, maybe).
    All(Vec<String>),
    /// Offers exactly these words that are not flags.
    Commands(BTreeSet<String>),
    /// Offers neither the decoy file nor the decoy directory.
    NoFiles,
    /// Offers this decoy (and, for a directory, not the decoy file).
    Offers(&'static str),
}

/// The lines to complete (the cursor at the end of each) and what each must offer.
fn expectations() -> Vec<(String, Expect)> {
    let mut out = Vec::new();
    for h in commands() {
        let line = h.line();
        let names = || h.flags.iter().flat_map(|f| f.names.iter().cloned());
        out.push((
            format!("{line} --"),
            Expect::All(names().filter(|n| n.starts_with("--")).collect()),
        ));
        out.push((format!("{line} -"), Expect::All(names().collect())));
        if !h.commands.is_empty() {
            out.push((
                format!("{line} "),
                Expect::Commands(h.commands.iter().cloned().collect()),
            ));
        }
        for flag in &h.flags {
            let (Some(value), Some(long)) = (&flag.value, flag.names.last()) else {
                continue;
            };
            if is_path(value) {
                let decoy = if value == "DIR" {
                    DECOY_DIR
                } else {
                    DECOY_FILE
                };
                out.push((format!("{line} {long} "), Expect::Offers(decoy)));
            } else {
                out.push((format!("{line} {long} "), Expect::NoFiles));
                out.push((format!("{line} {long} decoy"), Expect::NoFiles));
            }
        }
        // The first argument that is not a flag: a subcommand or a positional.
        if h.positionals.first().is_some_and(|p| is_path(p)) {
            out.push((format!("{line} decoy"), Expect::Offers(DECOY_FILE)));
        } else {
            out.push((format!("{line} decoy"), Expect::NoFiles));
            if h.commands.is_empty() {
                out.push((format!("{line} "), Expect::NoFiles));
            }
        }
    }
    out
}

/// Checks what a shell offered for each line; every failure is listed, not just the first.
#[track_caller]
fn check(shell: &str, complete: impl FnOnce(&Path, &[String]) -> Vec<BTreeSet<String>>) {
    let cases = expectations();
    let tmp = tempfile::tempdir().expect("tmp");
    let cwd = tmp.path().join("cwd");
    fs::create_dir_all(cwd.join(DECOY_DIR)).expect("mkdir");
    fs::write(cwd.join(DECOY_FILE), "").expect("write");
    let lines: Vec<String> = cases.iter().map(|(l, _)| l.clone()).collect();
    let offered = complete(&cwd, &lines);
    assert_eq!(offered.len(), lines.len(), "{shell}: one answer per line");
    let mut failures = Vec::new();
    for ((line, expect), got) in cases.iter().zip(&offered) {
        let files: Vec<&String> = got
            .iter()
            .filter(|w| *w == DECOY_FILE || *w == DECOY_DIR)
            .collect();
        let problem = match expect {
            Expect::All(want) => {
                let missing: Vec<&String> = want.iter().filter(|w| !got.contains(*w)).collect();
                (!missing.is_empty() || !files.is_empty())
                    .then(|| format!("wanted all of {want:?}, and no file names"))
            }
            Expect::Commands(want) => {
                let words: BTreeSet<String> = got
                    .iter()
                    .filter(|w| !w.starts_with('-'))
                    .cloned()
                    .collect();
                (words != *want).then(|| format!("wanted the subcommands {want:?}"))
            }
            Expect::NoFiles => (!files.is_empty()).then(|| "offered file names".to_owned()),
            Expect::Offers(DECOY_DIR) => (!got.contains(DECOY_DIR) || got.contains(DECOY_FILE))
                .then(|| format!("wanted {DECOY_DIR} and no file")),
            Expect::Offers(decoy) => (!got.contains(*decoy)).then(|| format!("wanted {decoy}")),
        };
        if let Some(problem) = problem {
            failures.push(format!("`{line}<TAB>`: {problem}; offered {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{shell} completion ({} of {} lines wrong):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Runs a driver under `timeout` and splits what it printed into one set of candidates per line
/// (a fish candidate's description and a directory's trailing `/` dropped).
#[track_caller]
fn run_driver(
    shell: &str,
    args: &[&std::ffi::OsStr],
    cwd: &Path,
    lines: &[String],
) -> Vec<BTreeSet<String>> {
    let home = cwd.parent().expect("cwd is in the temp dir");
    let out = Command::new("timeout")
        .args(["--kill-after=10", TIME_LIMIT, shell])
        .args(args)
        .args(lines)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("TERM", "xterm")
        .output()
        .expect("timeout (coreutils) runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{shell} {} (124: took over {TIME_LIMIT}s): {}\nstdout:\n{stdout}",
        out.status,
        stderr(&out)
    );
    let mut answers: Vec<BTreeSet<String>> = Vec::new();
    for l in stdout.lines() {
        if l == MARK {
            answers.push(BTreeSet::new());
        } else if let Some(last) = answers.last_mut() {
            let word = l.split('\t').next().unwrap_or_default();
            let word = word.strip_suffix('/').unwrap_or(word);
            if !word.is_empty() {
                last.insert(word.to_owned());
            }
        }
    }
    answers
}

// ---------------------------------------------------------------------------------------------
// The shells

/// Sources the script in a plain bash and, for each line, sets COMP_WORDS, COMP_CWORD, COMP_LINE
/// and COMP_POINT as readline would, calls the function `complete -p` names, and prints
/// COMPREPLY. Readline's own part is done as bash does it: `compopt` (which works only inside
/// readline) records its options, `plusdirs` adds directories, and an empty result falls back to
/// file names when `default` or `bashdefault` is still set.
const BASH_DRIVER: &str = r#"
source "$1" || exit 3
shift
spec=$(complete -p vbx-tokens) || exit 4
fn=${spec#*-F }
fn=${fn%% *}
declare -A __compopts
compopt() {
  while (($#)); do
    case $1 in
      -o) __compopts[$2]=1; shift 2 ;;
      +o) unset "__compopts[$2]"; shift 2 ;;
      *) shift ;;
    esac
  done
}
for line in "$@"; do
  read -ra COMP_WORDS <<<"$line"
  [[ $line == *' ' ]] && COMP_WORDS+=('')
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE=$line
  COMP_POINT=${#line}
  COMP_TYPE=9
  COMP_KEY=9
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  __compopts=()
  eval "compopt ${spec#complete }"
  COMPREPLY=()
  "$fn" vbx-tokens "$cur" "$prev"
  if [[ -n ${__compopts[plusdirs]-} ]]; then
    mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$cur")
  fi
  if ((${#COMPREPLY[@]} == 0)) && [[ -n ${__compopts[default]-}${__compopts[bashdefault]-} ]]; then
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  fi
  printf '%s\n' '<<<query>>>'
  if ((${#COMPREPLY[@]})); then printf '%s\n' "${COMPREPLY[@]}"; fi
done
"#;

/// fish completes a command line without a terminal: `complete -C`.
const FISH_DRIVER: &str = r#"
source $argv[1]; or exit 3
for line in $argv[2..-1]
    echo '<<<query>>>'
    complete -C "$line"
end
"#;

/// Runs an interactive zsh on a pseudo-terminal (the zpty module) with the completion system
/// loaded, types each line and <TAB>, and prints what completion offered. Nothing is timed: the
/// driver reads until the markers the inner shell prints before and after each completion.
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty || { print -u2 -- 'zsh/zpty is missing'; exit 3 }
local fpath_dir=$1 init=$2 out
shift 2
zpty z zsh -f -i
zpty -w z "fpath=(${(q)fpath_dir} \$fpath); source ${(q)init}"
zpty -r z out '*<<<ready>>>*' || { print -u2 -- "no prompt: $out"; exit 4 }
for line in "$@"; do
  zpty -n -w z "$line"$'\t'
  zpty -r z out '*<<<end>>>*' || { print -u2 -- "no completion for $line: $out"; exit 5 }
  print -r -- '<<<query>>>'
  print -r -- "${out//$'\r'/}" | sed -n 's/.*<<m>>//p'
  # Empty the line for the next one.
  zpty -n -w z $'\C-u'
done
zpty -d z
"#;

/// The inner zsh's setup. Its compadd records each match compadd would add (matching the word
/// typed, as `-A` does) and then adds them for real, so the completion system goes on exactly as
/// it would (a function that found matches stops the fallbacks). <TAB> runs complete-word with a
/// marker before and after; afterwards nothing is inserted or listed.
const ZSH_INIT: &str = r#"
PROMPT='' RPROMPT='' PS2=''
bindkey -e
autoload -Uz compinit && compinit -u -D
zstyle ':completion:*' insert-tab false
compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"
    return
  fi
  local -a __hits
  builtin compadd -A __hits "$@"
  (( $#__hits )) && print -rl -- "<<m>>"${^__hits}
  builtin compadd "$@"
}
__begin() { print -r -- '<<<begin>>>' }
__end() { compstate[insert]=''; compstate[list]=''; print -r -- '<<<end>>>' }
__capture() { compprefuncs=(__begin); comppostfuncs=(__end); zle complete-word }
zle -N __capture
bindkey '^I' __capture
bindkey '^U' kill-buffer
print -r -- '<<<ready>>>'
"#;

#[test]
fn bash_completes_every_flag_and_subcommand_and_files_only_for_paths() {
    let script = repo().join("completions/vbx-tokens.bash");
    check("bash", |cwd, lines| {
        run_driver(
            "bash",
            &[
                "--norc".as_ref(),
                "--noprofile".as_ref(),
                "-c".as_ref(),
                BASH_DRIVER.as_ref(),
                "bash".as_ref(),
                script.as_os_str(),
            ],
            cwd,
            lines,
        )
    });
}

#[test]
fn fish_completes_every_flag_and_subcommand_and_files_only_for_paths() {
    if !have("fish", "fish") {
        return;
    }
    let script = repo().join("completions/vbx-tokens.fish");
    check("fish", |cwd, lines| {
        run_driver(
            "fish",
            &[
                "--no-config".as_ref(),
                "-c".as_ref(),
                FISH_DRIVER.as_ref(),
                script.as_os_str(),
            ],
            cwd,
            lines,
        )
    });
}

#[test]
fn zsh_completes_every_flag_and_subcommand_and_files_only_for_paths() {
    if !have("zsh", "zsh") {
        return;
    }
    check("zsh", |cwd, lines| {
        // The completion system finds `_vbx-tokens` in a directory of $fpath: one holding only it.
        let home = cwd.parent().expect("in the temp dir");
        let functions = home.join("zsh-functions");
        fs::create_dir_all(&functions).expect("mkdir");
        fs::copy(
            repo().join("completions/_vbx-tokens"),
            functions.join("_vbx-tokens"),
        )
        .expect("copy");
        let init = home.join("init.zsh");
        fs::write(&init, ZSH_INIT).expect("write");
        run_driver(
            "zsh",
            &[
                "-f".as_ref(),
                "-c".as_ref(),
                ZSH_DRIVER.as_ref(),
                "zsh".as_ref(),
                functions.as_os_str(),
                init.as_os_str(),
            ],
            cwd,
            lines,
        )
    });
}

// ---------------------------------------------------------------------------------------------
// Man pages

fn man_pages() -> Vec<PathBuf> {
    let mut pages = files_under(&repo().join("man"));
    pages.sort();
    assert!(pages.len() >= 10, "{pages:?}");
    pages
}

/// Runs a formatter on a page and returns everything it said, which should be nothing.
#[track_caller]
fn complaints(program: &str, args: &[&str], page: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .arg(page)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let mut said = stderr(&out);
    if program == "mandoc" {
        said.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    if !out.status.success() {
        said.push_str(&format!(" ({program} exited with {})", out.status));
    }
    said
}

#[test]
fn man_pages_are_plain_ascii_roff_with_a_date() {
    for page in man_pages() {
        let text = fs::read_to_string(&page).expect("read");
        if let Some(c) = text.chars().find(|c| !c.is_ascii()) {
            panic!(
                "{} has a raw {c:?}: plain groff reads it as Latin-1; src/generate.rs should \
                 write it as a groff escape",
                page.display()
            );
        }
        let th = text
            .lines()
            .find(|l| l.starts_with(".TH "))
            .unwrap_or_else(|| panic!("{} has no .TH", page.display()));
        assert!(
            th.split_whitespace()
                .nth(3)
                .is_some_and(|date| date.len() == 10 && date.as_bytes()[4] == b'-'),
            "{}: no date in {th:?}",
            page.display()
        );
    }
}

#[test]
fn man_pages_format_without_warnings_in_groff_and_mandoc() {
    let groff = have("groff", "groff-base");
    let mandoc = have("mandoc", "mandoc");
    let mut failures = Vec::new();
    for page in man_pages() {
        let mut runs: Vec<(&str, &[&str])> = Vec::new();
        if groff {
            // The default device (PostScript), what `man` uses in a UTF-8 locale, and what it uses
            // in any other.
            runs.extend([
                ("groff", &["-man", "-ww", "-z"][..]),
                ("groff", &["-man", "-ww", "-z", "-Tutf8"][..]),
                ("groff", &["-man", "-ww", "-z", "-Tascii"][..]),
            ]);
        }
        if mandoc {
            runs.push(("mandoc", &["-Tlint", "-W", "warning"][..]));
        }
        for (program, args) in runs {
            let said = complaints(program, args, &page);
            if !said.trim().is_empty() {
                failures.push(format!(
                    "{program} {} {}: {}",
                    args.join(" "),
                    page.display(),
                    said.trim()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

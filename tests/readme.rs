//! The figures the README quotes from the program are the program's: each ```` ```console ````
//! block in README.md is a command (`$ cargo run --release -q -- ARGS`) and lines of what it
//! prints; this runs the command and requires every quoted line, as written, among the lines
//! of its output. A line `…` stands for lines left out (timings, which vary run to run).
//! So a change that moves a quoted figure fails here until the README says the new one.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dsm-tui");
const README: &str = include_str!("../README.md");
const COMMAND_PREFIX: &str = "$ cargo run --release -q -- ";

/// A console block: the arguments after the command prefix and the lines quoted after it.
struct Quote {
    args: Vec<String>,
    lines: Vec<String>,
}

fn console_blocks(markdown: &str) -> Vec<Quote> {
    let mut quotes = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if line.trim_end() != "```console" {
            continue;
        }
        let command = lines.next().expect("a console block has a command");
        let args = command
            .strip_prefix(COMMAND_PREFIX)
            .unwrap_or_else(|| panic!("a console block starts with {COMMAND_PREFIX:?}: {command:?}"));
        let quoted = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .filter(|l| !l.trim().is_empty() && l.trim() != "…")
            .map(|l| l.trim_end().to_owned())
            .collect();
        quotes.push(Quote { args: args.split_whitespace().map(str::to_owned).collect(), lines: quoted });
    }
    quotes
}

#[test]
fn every_figure_the_readme_quotes_is_what_the_program_prints() {
    let quotes = console_blocks(README);
    assert!(quotes.len() >= 2, "the README quotes {} runs; this test checks them", quotes.len());
    for quote in &quotes {
        assert!(!quote.lines.is_empty(), "a console block for {:?} quotes nothing", quote.args);
        let output = Command::new(BIN).args(&quote.args).output().expect("run dsm-tui");
        assert!(output.status.success(), "{:?}: {}", quote.args, String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
        let printed: Vec<&str> = stdout.lines().map(str::trim_end).collect();
        for line in &quote.lines {
            assert!(
                printed.contains(&line.as_str()),
                "README quotes {line:?} from `dsm-tui {}`, which printed:\n{stdout}",
                quote.args.join(" ")
            );
        }
    }
}

#[test]
fn a_console_block_is_its_arguments_and_its_quoted_lines() {
    let markdown = "```console\n$ cargo run --release -q -- --once\nenergy distance 9.99\n…\n```\n";
    let quotes = console_blocks(markdown);
    assert_eq!(quotes.len(), 1);
    assert_eq!(quotes[0].args, ["--once"]);
    assert_eq!(quotes[0].lines, ["energy distance 9.99"], "`…` and blank lines are not quotes");
}

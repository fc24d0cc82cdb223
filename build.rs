//! Re-embed the migrations whenever their SQL changes, pack the name lists, and link the
//! shipped binary compactly.

/// At most this many leading characters an entry shares with the one before: the count is
/// written as one control character (U+0000–U+001F).
const MAX_SHARED: usize = 31;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=assets/names");
    pack_name_lists();
    link_compactly();
}

/// Front-codes each name list of `assets/names/` (`<name>.txt` → `OUT_DIR/<name>.packed`): its
/// data lines (comments dropped; the sources and licences stay in the repository's files and
/// README), each written as how many leading characters it shares with the line before, then
/// the rest. 1.3 MB of lists become 0.7 MB of binary; the lexicon expands them once, on first
/// use.
fn pack_name_lists() {
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| fail("cargo sets OUT_DIR"));
    let lists = std::fs::read_dir("assets/names")
        .unwrap_or_else(|e| fail(&format!("cannot read assets/names: {e}")));
    for entry in lists.flatten() {
        let source = entry.path();
        let (Some(name), Some("txt")) = (
            source.file_stem().and_then(|s| s.to_str()),
            source.extension().and_then(|e| e.to_str()),
        ) else {
            continue;
        };
        let source = source.display().to_string();
        let text = std::fs::read_to_string(&source)
            .unwrap_or_else(|e| fail(&format!("cannot read {source}: {e}")));
        let mut packed = String::with_capacity(text.len() / 2);
        let mut previous = "";
        let lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        for line in lines {
            if line.chars().any(|c| c < ' ') {
                fail(&format!("{source}: a control character in {line:?}"));
            }
            let shared = line
                .chars()
                .zip(previous.chars())
                .take(MAX_SHARED)
                .take_while(|(a, b)| a == b)
                .count();
            packed.push(char::from(u8::try_from(shared).unwrap_or_default()));
            packed.extend(line.chars().skip(shared));
            previous = line;
        }
        let target = format!("{out_dir}/{name}.packed");
        std::fs::write(&target, packed)
            .unwrap_or_else(|e| fail(&format!("cannot write {target}: {e}")));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("build.rs: {message}");
    std::process::exit(1)
}

/// Two link options worth 2.3 MB of the release binary (README, Build).
/// - Packed relative relocations (RELR): a position-independent executable carries a 24-byte
///   record for every pointer in its read-only data (vtables, string tables), 1.8 MB here;
///   RELR describes the same pointers in a bitmap, and the loader still places the binary at
///   a random address. A binary with them starts only on glibc 2.36 or later, so they are used
///   only when the machine building it has such a glibc (a Linux binary needs at least the
///   glibc it was built against anyway).
/// - Identical code folding: generic code instantiated for different types often compiles to
///   the same machine code (drops, serde visitors, diesel row readers); one copy is kept. Rust
///   does not promise distinct functions distinct addresses (its own function merging already
///   relies on that). Only LLD folds code, and the toolchain links with its own rust-lld by
///   default on x86_64 Linux (since Rust 1.90); GNU ld would reject the option.
fn link_compactly() {
    let target = |key: &str| std::env::var(format!("CARGO_CFG_TARGET_{key}")).unwrap_or_default();
    if target("OS") != "linux" || target("ENV") != "gnu" {
        return;
    }
    if builds_for_a_glibc_with_relr() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    if target("ARCH") == "x86_64" {
        println!("cargo:rustc-link-arg-bins=-Wl,--icf=all");
    }
}

/// True when the binary is built on the machine kind it runs on and that machine's glibc is
/// 2.36 or later (`getconf GNU_LIBC_VERSION` prints `glibc 2.36`).
fn builds_for_a_glibc_with_relr() -> bool {
    if std::env::var("HOST").ok() != std::env::var("TARGET").ok() {
        return false;
    }
    let Ok(output) = std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
    else {
        return false;
    };
    let printed = String::from_utf8_lossy(&output.stdout);
    let Some(version) = printed.trim().strip_prefix("glibc ") else {
        return false;
    };
    let mut numbers = version.split('.').map(|n| n.parse::<u32>().unwrap_or(0));
    let major = numbers.next().unwrap_or(0);
    let minor = numbers.next().unwrap_or(0);
    (major, minor) >= (2, 36)
}
